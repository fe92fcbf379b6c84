/**
 * The logged-out screen: log in and register side by side (stacked on narrow screens), so neither needs a
 * route of its own and both are one Tab away.
 */
import { useRef } from "preact/hooks";
import { useSignal } from "@preact/signals";
import { errorsFor } from "../errors";
import type { RegisterInput } from "../models/session";
import { useApp } from "./context";
import { FieldError, SubmitButton, TextField, focusFirstInvalid, useFormState } from "./fields";

const HANDLE = /^[a-z0-9_]{3,32}$/;
const E164 = /^\+[1-9]\d{6,14}$/;
const CURRENCY = /^[A-Z]{3}$/;

function LoginForm() {
  const { session } = useApp();
  const handle = useSignal("");
  const password = useSignal("");
  const { errors, busy } = useFormState();
  const form = useRef<HTMLFormElement>(null);

  async function onSubmit(event: Event): Promise<void> {
    event.preventDefault();
    if (busy.value) return;
    if (handle.value.trim() === "" || password.value === "") {
      errors.value = { form: "Enter your handle and your password." };
      return;
    }
    busy.value = true;
    errors.value = {};
    const result = await session.login(handle.value.trim().toLowerCase(), password.value);
    busy.value = false;
    if (!result.ok) {
      errors.value = errorsFor(result.error, "login");
      password.value = "";
      // The password was cleared for the retry, so that is where the keyboard user continues.
      setTimeout(() => form.current?.querySelector<HTMLInputElement>("#login-password")?.focus(), 0);
    }
  }

  return (
    <form
      ref={form}
      class="card"
      data-testid="login-form"
      onSubmit={(event) => void onSubmit(event)}
      noValidate
      aria-labelledby="login-title"
    >
      <h2 id="login-title">Log in</h2>
      <TextField id="login-handle" testid="login-handle" label="Handle" value={handle} autocomplete="username" required />
      <TextField
        id="login-password"
        testid="login-password"
        label="Password"
        type="password"
        value={password}
        autocomplete="current-password"
        required
      />
      <FieldError id="login-form-error" message={errors.value.form} />
      <SubmitButton testid="login-submit" busy={busy.value}>
        {busy.value ? "Logging in…" : "Log in"}
      </SubmitButton>
    </form>
  );
}

function RegisterForm() {
  const { session } = useApp();
  const handle = useSignal("");
  const password = useSignal("");
  const displayName = useSignal("");
  const phone = useSignal("");
  const currency = useSignal("USD");
  const { errors, busy } = useFormState();
  const form = useRef<HTMLFormElement>(null);

  /** The register rules of the contract, checked here first so most mistakes need no round trip. */
  function check(): { input: RegisterInput } | { problems: Record<string, string> } {
    const problems: Record<string, string> = {};
    const input: RegisterInput = { handle: handle.value.trim(), password: password.value };
    if (!HANDLE.test(input.handle)) problems.handle = "Handles are 3 to 32 lowercase letters, digits or underscores.";
    if (input.password.length < 10 || input.password.length > 128) problems.password = "Passwords are 10 to 128 characters long.";
    const name = displayName.value.trim();
    if (name !== "") input.display_name = name;
    const tel = phone.value.replace(/[\s\-().]/g, "");
    if (tel !== "") {
      if (E164.test(tel)) input.phone = tel;
      else problems.phone = "Use the international format, like +14155550123.";
    }
    const code = currency.value.trim().toUpperCase();
    if (code !== "") {
      if (CURRENCY.test(code)) input.currency = code;
      else problems.currency = "Use a three-letter currency code, like USD or EUR.";
    }
    return Object.keys(problems).length > 0 ? { problems } : { input };
  }

  async function onSubmit(event: Event): Promise<void> {
    event.preventDefault();
    if (busy.value) return;
    const checked = check();
    if ("problems" in checked) {
      errors.value = checked.problems;
      focusFirstInvalid(form.current);
      return;
    }
    busy.value = true;
    errors.value = {};
    const result = await session.register(checked.input);
    busy.value = false;
    if (!result.ok) {
      errors.value = errorsFor(result.error, "register");
      focusFirstInvalid(form.current);
    }
  }

  const e = errors.value;
  return (
    <form
      ref={form}
      class="card"
      data-testid="register-form"
      onSubmit={(event) => void onSubmit(event)}
      noValidate
      aria-labelledby="register-title"
    >
      <h2 id="register-title">Create an account</h2>
      <TextField
        id="register-handle"
        testid="register-handle"
        label="Handle"
        value={handle}
        error={e.handle}
        hint="3 to 32 lowercase letters, digits or _"
        autocomplete="username"
        required
      />
      <TextField
        id="register-password"
        testid="register-password"
        label="Password"
        type="password"
        value={password}
        error={e.password}
        hint="At least 10 characters"
        autocomplete="new-password"
        required
      />
      <TextField
        id="register-name"
        label="Display name"
        value={displayName}
        error={e.display_name}
        maxLength={64}
        autocomplete="name"
        required={false}
      />
      <TextField
        id="register-phone"
        label="Phone"
        type="tel"
        value={phone}
        error={e.phone}
        hint="International format, like +14155550123"
        autocomplete="tel"
        inputMode="tel"
        required={false}
      />
      <TextField
        id="register-currency"
        label="Currency"
        value={currency}
        error={e.currency}
        maxLength={3}
        hint="Your wallet's currency, like USD or EUR"
        required={false}
      />
      <FieldError id="register-form-error" message={e.form} />
      <SubmitButton testid="register-submit" busy={busy.value}>
        {busy.value ? "Creating…" : "Create account"}
      </SubmitButton>
    </form>
  );
}

export function AuthView() {
  return (
    <main id="main" tabIndex={-1} class="auth">
      <h1 class="hero-title">Your money, live.</h1>
      <p class="lede">Send, receive and keep track of money, updated live. Log in, or create an account in a few seconds.</p>
      <div class="auth-grid">
        <LoginForm />
        <RegisterForm />
      </div>
    </main>
  );
}
