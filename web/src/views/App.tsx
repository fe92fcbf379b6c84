/**
 * The page frame: a skip link, the header with navigation and log out, and the screen for the session
 * state. Logged-in users get one dashboard with everything on it (balance, forms, history), so every task
 * is reachable by Tab without navigating; auditors also get the audit screen.
 */
import { useSignal } from "@preact/signals";
import { hrefOf, route } from "../models/route";
import { isAuditor, logout, me, sessionStatus } from "../models/session";
import { AuditView } from "./AuditView";
import { AuthView } from "./AuthView";
import { BalanceCard } from "./BalanceCard";
import { History } from "./History";
import { AmountOnlyForm, SendForm } from "./MoveForms";
import { PendingPanel } from "./PendingPanel";

function Header() {
  const busy = useSignal(false);
  const user = me.value?.user;
  const current = route.value;
  return (
    <header class="top">
      <div class="brand">Edge Wallet</div>
      {user !== undefined ? (
        <nav aria-label="Main">
          <a href={hrefOf("wallet")} aria-current={current === "wallet" ? "page" : undefined}>
            Wallet
          </a>
          {isAuditor.value ? (
            <a href={hrefOf("audit")} aria-current={current === "audit" ? "page" : undefined} data-testid="nav-audit">
              Audit
            </a>
          ) : null}
          <span class="who" title={user.handle}>
            @{user.handle}
          </span>
          <button
            type="button"
            class="secondary"
            data-testid="logout"
            disabled={busy.value}
            onClick={() => {
              busy.value = true;
              void logout().finally(() => {
                busy.value = false;
              });
            }}
          >
            Log out
          </button>
        </nav>
      ) : null}
    </header>
  );
}

function Dashboard() {
  return (
    <main id="main" tabIndex={-1} class="dashboard">
      <div class="column">
        <BalanceCard />
        <PendingPanel />
        <SendForm />
        <div class="pair">
          <AmountOnlyForm kind="deposit" />
          <AmountOnlyForm kind="withdrawal" />
        </div>
      </div>
      <div class="column">
        <History />
      </div>
    </main>
  );
}

export function App() {
  const status = sessionStatus.value;
  return (
    <>
      {/* The hash holds the route, so the skip link moves focus itself instead of changing the hash. */}
      <a
        class="skip"
        href="#main"
        onClick={(event) => {
          event.preventDefault();
          document.getElementById("main")?.focus();
        }}
      >
        Skip to content
      </a>
      <Header />
      {status === "loading" ? (
        <main id="main" tabIndex={-1} class="auth">
          <p class="muted" role="status">
            Loading…
          </p>
        </main>
      ) : status === "anon" ? (
        <AuthView />
      ) : route.value === "audit" && isAuditor.value ? (
        <AuditView />
      ) : (
        <Dashboard />
      )}
    </>
  );
}
