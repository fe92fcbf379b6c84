/**
 * The page frame: a skip link, the header with navigation and log out, and the screen for the session
 * state. Logged-in users get one dashboard with everything on it (balance, forms, history), so every task
 * is reachable by Tab without navigating; auditors also get the audit screen.
 */
import { useEffect, useRef } from "preact/hooks";
import { useModel, useSignal } from "@preact/signals";
import { AppModel } from "../models/app";
import { LogCheckModel } from "../models/logcheck";
import { hrefOf, type Route } from "../models/route";
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
import { Toasts } from "./Toasts";

/** One link of the main navigation; `show` hides links the user's role cannot use. */
interface NavItem {
  route: Route;
  label: string;
  testid: string;
  show: (app: AppModel) => boolean;
}

/**
 * The main navigation. A new screen adds one item here (the Developers page goes after Wallet), so the
 * header, the phone menu and aria-current need no other change.
 */
const NAV_ITEMS: readonly NavItem[] = [
  { route: "wallet", label: "Wallet", testid: "nav-wallet", show: () => true },
  { route: "audit", label: "Audit", testid: "nav-audit", show: (app) => app.session.isAuditor.value },
  { route: "developers", label: "Developers", testid: "nav-developers", show: () => true },
];

const THEME_LABELS = { system: "Auto", light: "Light", dark: "Dark" } as const;

/** Cycles the colour theme: follow the system, light, dark. The label says the current one. */
function ThemeSwitch() {
  const { theme } = useApp();
  const choice = theme.choice.value;
  return (
    <button
      type="button"
      class="icon-button"
      data-testid="theme-switch"
      aria-label={`Colour theme: ${THEME_LABELS[choice]}. Change`}
      title="Change the colour theme"
      onClick={() => theme.cycle()}
    >
      <span aria-hidden="true">{choice === "dark" ? "☾" : choice === "light" ? "☀" : "◐"}</span> {THEME_LABELS[choice]}
    </button>
  );
}

function Header() {
  const app = useApp();
  const { session, route } = app;
  const busy = useSignal(false);
  /** The phone menu's state; from 720px the navigation is always shown and the button is hidden. */
  const open = useSignal(false);
  const toggle = useRef<HTMLButtonElement>(null);
  const user = session.me.value?.user;
  const current = route.route.value;
  return (
    <header
      class="top"
      onKeyDown={(event) => {
        // Escape closes the open phone menu from anywhere in the header, and focus goes back to the button that opened it.
        if (event.key !== "Escape" || !open.value) return;
        open.value = false;
        toggle.current?.focus();
      }}
    >
      <div class="brand">
        <span class="brand-mark" aria-hidden="true">
          EW
        </span>
        Edge Wallet
      </div>
      <div class="top-tools">
        <ThemeSwitch />
        {user !== undefined ? (
          <button
            ref={toggle}
            type="button"
            class="icon-button menu-button"
            aria-expanded={open.value ? "true" : "false"}
            aria-controls="main-nav"
            data-testid="menu-toggle"
            onClick={() => (open.value = !open.value)}
          >
            Menu
          </button>
        ) : null}
      </div>
      {user !== undefined ? (
        <nav id="main-nav" aria-label="Main" class={open.value ? "main-nav open" : "main-nav"}>
          <ul class="nav-links">
            {NAV_ITEMS.filter((item) => item.show(app)).map((item) => (
              <li key={item.route}>
                <a
                  href={hrefOf(item.route)}
                  aria-current={current === item.route ? "page" : undefined}
                  data-testid={item.testid}
                  onClick={() => (open.value = false)}
                >
                  {item.label}
                </a>
              </li>
            ))}
          </ul>
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

/** Shortcuts to the forms below, for people who land on the balance (on a phone the forms are far down). */
const QUICK_ACTIONS = [
  { label: "Send", form: "send-form" },
  { label: "Request", form: "request-form" },
  { label: "Split a bill", form: "split-form" },
  { label: "Add money", form: "deposit-form" },
] as const;

function QuickActions() {
  return (
    <nav class="quick-actions" aria-label="Quick actions">
      {QUICK_ACTIONS.map((action) => (
        <button
          key={action.form}
          type="button"
          class="secondary"
          onClick={() => {
            const form = document.querySelector(`[data-testid="${action.form}"]`);
            form?.scrollIntoView({ block: "start" });
            form?.querySelector<HTMLElement>("input, select")?.focus({ preventScroll: true });
          }}
        >
          {action.label}
        </button>
      ))}
    </nav>
  );
}

function Dashboard() {
  const { contacts, directory, session, wallet } = useApp();
  const userId = session.me.value?.user.id ?? null;
  // The names this user's earlier visits learned for counterparty wallets (models/directory.ts).
  useEffect(() => directory.useFor(userId), [userId]);
  // The shown history's check against the transparency log lives as long as the dashboard.
  const log = useModel(() => new LogCheckModel({ wallet }));
  // The dashboard opens at its top, with the balance in view: on a phone the registration form sits far down the
  // page, and a new user landed in the middle of the send form with the balance scrolled away (issue 18's walk).
  useEffect(() => window.scrollTo(0, 0), []);
  return (
    <main id="main" tabIndex={-1} class="dashboard">
      <h1 class="visually-hidden">Your wallet</h1>
      <LogAlarmBanner log={log} />
      <ContactSuggestions contacts={contacts.contacts.value} />
      <div class="column">
        <BalanceCard />
        <QuickActions />
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

type ScreenName = "loading" | "anon" | "audit" | "developers" | "wallet";

/**
 * Moves focus to the new screen's main region when the screen changes under the keyboard user's feet: the control
 * that led there (Log in, Log out, a link of the phone menu that closed) is gone or hidden, and focus would fall to
 * the page, so the next Tab would start again from the top. Focus that is still on a visible control stays put,
 * and the first screen after loading takes no focus, so a fresh page starts at the top as usual.
 */
function useFocusOnScreenChange(screen: ScreenName): void {
  const shown = useRef(screen);
  useEffect(() => {
    const before = shown.current;
    shown.current = screen;
    if (before === screen || before === "loading") return;
    const active = document.activeElement;
    const lost = active === null || active === document.body || !active.isConnected || active.getClientRects().length === 0;
    if (!lost) return;
    // A new screen starts at its top; focusing without preventScroll would scroll the main region's top under
    // the sticky header instead.
    document.getElementById("main")?.focus({ preventScroll: true });
    window.scrollTo(0, 0);
  }, [screen]);
}

function Screen() {
  const { session, route } = useApp();
  const status = session.status.value;
  const screen: ScreenName =
    status === "loading"
      ? "loading"
      : status === "anon"
        ? "anon"
        : route.route.value === "audit" && session.isAuditor.value
          ? "audit"
          : route.route.value === "developers"
            ? "developers"
            : "wallet";
  useFocusOnScreenChange(screen);
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
      {screen === "loading" ? (
        <main id="main" tabIndex={-1} class="auth" aria-busy="true">
          <p class="visually-hidden" role="status">
            Loading…
          </p>
          <div class="card skeleton" aria-hidden="true">
            <span class="short" />
            <span class="big" />
            <span class="block" />
          </div>
        </main>
      ) : screen === "anon" ? (
        <AuthView />
      ) : screen === "audit" ? (
        <AuditView />
      ) : screen === "developers" ? (
        <DevelopersPage />
      ) : (
        <Dashboard />
      )}
      <Toasts />
    </>
  );
}
