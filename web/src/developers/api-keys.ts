/**
 * The API keys section's model: the user's keys (GET /api-keys), making one (the key is held here only until
 * the user dismisses it: it is shown once and never fetched again), and revoking one. Created by its view with
 * `useModel`, so it lives only while the Developers page is shown.
 */
import { batch, createModel, signal } from "@preact/signals";
import { api, seg } from "../api";
import type { components } from "../generated/api";
import type { ApiErrorBody } from "../types";

export type ApiKey = components["schemas"]["ApiKey"];
export type Scope = ApiKey["scopes"][number];

/** Every scope, in the order the form shows them, with what it allows in words. */
export const SCOPE_CHOICES: readonly { scope: Scope; label: string }[] = [
  { scope: "read", label: "read: every read of your own data, and the live feed" },
  { scope: "payments:write", label: "payments:write: deposits, withdrawals, transfers, refunds, requests and new wallets" },
  { scope: "webhooks:write", label: "webhooks:write: manage webhook endpoints" },
];

/** The longest name the server accepts. */
export const API_KEY_NAME_MAX = 100;

/** What to tell the user about a refused request, in words. */
export function keyErrorText(error: ApiErrorBody): string {
  if (error.code === "limit_exceeded")
    return `You hold as many API keys as allowed (${error.details?.[0]?.issue ?? "the limit"}); revoke one first.`;
  if (error.code === "validation_error") {
    const field = error.details?.[0]?.field ?? "";
    if (field.startsWith("scopes")) return "Choose at least one scope.";
    if (field.startsWith("name")) return `Give the key a name of 1 to ${API_KEY_NAME_MAX} characters, without control characters.`;
  }
  if (error.code === "network_error") return "The request did not reach the server; try again.";
  return error.message === "" ? "Something went wrong; try again." : error.message;
}

interface Made {
  api_key: ApiKey;
  key: string | null;
}

/** The keys of the logged-in user and the one just made. */
export const ApiKeysModel = createModel(() => {
  const keys = signal<ApiKey[]>([]);
  const loaded = signal(false);
  /** The key just made, shown once; null once dismissed. */
  const shown = signal<{ name: string; key: string } | null>(null);
  const error = signal<ApiErrorBody | null>(null);
  const busy = signal(false);

  async function load(): Promise<void> {
    const result = await api<{ items: ApiKey[] }>("GET", "/api-keys?limit=200");
    batch(() => {
      if (result.ok) keys.value = result.data.items;
      else error.value = result.error;
      loaded.value = true;
    });
  }

  return {
    keys,
    loaded,
    shown,
    error,
    busy,
    load,
    /** Makes a key; true when it was made (the form then clears). */
    async create(name: string, scopes: Scope[]): Promise<boolean> {
      busy.value = true;
      error.value = null;
      const result = await api<Made>("POST", "/api-keys", { body: { name, scopes }, idempotencyKey: crypto.randomUUID() });
      busy.value = false;
      if (!result.ok) {
        error.value = result.error;
        return false;
      }
      const { api_key, key } = result.data;
      batch(() => {
        keys.value = [api_key, ...keys.value.filter((k) => k.id !== api_key.id)];
        if (key !== null) shown.value = { name: api_key.name, key };
      });
      return true;
    },
    /** Revokes a key; it disappears from the list once the server has revoked it. */
    async revoke(id: string): Promise<void> {
      busy.value = true;
      error.value = null;
      const result = await api<null>("DELETE", `/api-keys/${seg(id)}`);
      busy.value = false;
      // 404: already revoked (another tab): it is gone either way.
      if (result.ok || result.status === 404) keys.value = keys.value.filter((k) => k.id !== id);
      else error.value = result.error;
    },
    /** Forgets the key shown once (the user copied it, or chose not to). */
    dismiss(): void {
      shown.value = null;
    },
  };
});

export type ApiKeysModel = InstanceType<typeof ApiKeysModel>;
