/**
 * The page frame: a skip link, the header with navigation and log out, and the screen for the session
 * state. Logged-in users get one dashboard with everything on it (balance, forms, history), so every task
 * is reachable by Tab without navigating; auditors also get the audit screen.
 */
import { useEffect } from "preact/hooks";
import { useModel, useSignal } from "@preact/signals";
import { AppModel } from "../models/app";
import { LogCheckModel } from "../models/logcheck";
import { hrefOf } from "../models/route";
import { DevelopersPage } from "../developers/DevelopersPage";
import { AuditView } from "./AuditView";
import { AuthView } from "./AuthView";
import { BalanceCard } from "./BalanceCard";
import { AppContext, useApp } from "./context";
import { ContactSuggestions } from "./fields";
import { History } from "./History";
import { LogAlarmBanner, LogStatusCard } from "./LogStatus";
import { AmountOnlyForm, SendForm } from "./MoveForms";
import { RequestForm, SplitForm } from "./PaymentForms";
import { PendingPanel } from "./PendingPanel";
import { IncomingRequests, OutgoingRequests } from "./Requests";

function Header() {
  const { session, route } = useApp();
  const busy = useSignal(false);
  const user = session.me.value?.user;
  const current = route.route.value;
  return (
    <header class="top">
      <div class="brand">Edge Wallet</div>
      {user !== undefined ? (
        <nav aria-label="Main">
          <a href={hrefOf("wallet")} aria-current={current === "wallet" ? "page" : undefined}>
            Wallet
          </a>
          {session.isAuditor.value ? (
            <a href={hrefOf("audit")} aria-current={current === "audit" ? "page" : undefined} data-testid="nav-audit">
              Audit
            </a>
          ) : null}
          <a href={hrefOf("developers")} aria-current={current === "developers" ? "page" : undefined} data-testid="nav-developers">
            Developers
          </a>
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
              void session.logout().finally(() => {
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
  const { contacts, wallet } = useApp();
  // The shown history's check against the transparency log lives as long as the dashboard.
  const log = useModel(() => new LogCheckModel({ wallet }));
  return (
    <main id="main" tabIndex={-1} class="dashboard">
      <LogAlarmBanner log={log} />
      <ContactSuggestions contacts={contacts.contacts.value} />
      <div class="column">
        <BalanceCard />
        <PendingPanel />
        <IncomingRequests />
        <SendForm />
        <RequestForm />
        <SplitForm />
        <div class="pair">
          <AmountOnlyForm kind="deposit" />
          <AmountOnlyForm kind="withdrawal" />
        </div>
      </div>
      <div class="column">
        <OutgoingRequests />
        <LogStatusCard log={log} />
        <History />
      </div>
    </main>
  );
}

/** The root: creates the page-long models once, asks who is logged in, and provides the models to the views. */
export function App() {
  const app = useModel(AppModel);
  useEffect(() => {
    void app.session.loadMe();
  }, [app]);
  return (
    <AppContext.Provider value={app}>
      <Screen />
    </AppContext.Provider>
  );
}

function Screen() {
  const { session, route } = useApp();
  const status = session.status.value;
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
      ) : route.route.value === "audit" && session.isAuditor.value ? (
        <AuditView />
      ) : route.route.value === "developers" ? (
        <DevelopersPage />
      ) : (
        <Dashboard />
      )}
    </>
  );
}
