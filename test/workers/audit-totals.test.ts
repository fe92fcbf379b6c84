/**
 * GET /audit/totals (issue 18's auditor dashboard): deposits minus withdrawals beside the sum of balances, as
 * running totals at each bucket's end, on a known set of movements in a currency no other test of this file
 * uses. A transfer changes neither total; a withdrawal lowers both; a mirror row whose balance_after was changed
 * opens a gap between them, which is what the dashboard shows as a finding. The two users' wallets are in
 * different audit partitions, so every answer adds both partitions' partial sums.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { tamper } from "./audit-helpers";
import { api, deposit, grantAuditor, register, registerIn, settle, transfer, type TestUser } from "./helpers";

interface Totals {
  currency: string;
  from: string;
  to: string;
  buckets: { end: string; net: number; balances: number }[];
}

const CURRENCY = "NOK";
let a: TestUser;
let b: TestUser;
let auditor: TestUser;
/** Instants between the movements: before any, after the deposits, after the transfer, after the withdrawal. */
const at: number[] = [];

/** Waits until the clock has moved past the last movement, so an instant falls strictly between two of them. */
async function mark(): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, 5));
  at.push(Date.now());
  await new Promise((resolve) => setTimeout(resolve, 5));
}

/** The i-th marked instant. */
function t(i: number): number {
  const instant = at[i];
  if (instant === undefined) throw new Error(`no instant ${i}`);
  return instant;
}

function totals(query: string, token = auditor.token) {
  return api<Totals>(`/audit/totals?${query}`, { token });
}

function window(from: number, to: number, buckets: number): string {
  return `currency=${CURRENCY}&from=${new Date(from).toISOString()}&to=${new Date(to).toISOString()}&buckets=${buckets}`;
}

beforeAll(async () => {
  // One wallet in each audit partition, so the totals are the sum of both partitions' partials.
  [a, b, auditor] = [await registerIn(0, { currency: CURRENCY }), await registerIn(1, { currency: CURRENCY }), await register()];
  await grantAuditor(auditor);
  await mark();
  expect((await deposit(a, 10_000)).status).toBe(201);
  expect((await deposit(b, 5_000)).status).toBe(201);
  await mark();
  const sent = await transfer(a, { handle: b.handle }, 3_000);
  expect(sent.status, sent.text).toBe(201);
  await mark();
  const out = await api(`/wallets/${b.wallet_id}/withdrawals`, { token: b.token, key: crypto.randomUUID(), body: { amount: 2_000 } });
  expect(out.status, out.text).toBe(201);
  await mark();
  await settle([a.id, b.id]);
});

describe("GET /audit/totals", () => {
  it("gives both totals at each step: deposits add, a transfer changes neither, a withdrawal lowers both", async () => {
    const steps: [number, number][] = [];
    for (const end of at) {
      const res = await totals(window(t(0) - 60_000, end, 1));
      expect(res.status, res.text).toBe(200);
      steps.push(res.json.buckets.map((bucket): [number, number] => [bucket.net, bucket.balances])[0] ?? [-1, -1]);
    }
    expect(steps).toEqual([
      [0, 0],
      [15_000, 15_000],
      [15_000, 15_000],
      [13_000, 13_000],
    ]);
  });

  it("cuts the window into buckets and counts everything before it in the first", async () => {
    const res = await totals(window(t(1), t(3), 2));
    expect(res.status, res.text).toBe(200);
    expect(res.json.currency).toBe(CURRENCY);
    expect(res.json.buckets).toHaveLength(2);
    expect(res.json.buckets.at(-1)).toEqual({ end: new Date(t(3)).toISOString(), net: 13_000, balances: 13_000 });
    // The deposits came before the window: the first bucket starts from them, not from zero.
    expect(res.json.buckets[0]?.net).toBeGreaterThanOrEqual(13_000);
    // Another currency holds none of this.
    const other = await totals(window(t(0), t(3), 1).replace(CURRENCY, "SEK"));
    expect(other.json.buckets).toEqual([{ end: new Date(t(3)).toISOString(), net: 0, balances: 0 }]);
  });

  it("refuses bad windows with 400 and non-auditors with 403", async () => {
    const bad = [
      window(t(3), t(0), 1),
      window(t(0), t(3), 0),
      window(t(0), t(3), 201),
      window(t(0), t(0) + 367 * 86_400_000, 1),
      window(t(0), t(3), 1).replace(CURRENCY, "XYZ"),
      `currency=${CURRENCY}&from=yesterday&to=${new Date().toISOString()}`,
    ];
    for (const query of bad) {
      const res = await totals(query);
      expect([res.status, (res.json as { error?: { code: string } }).error?.code], query).toEqual([400, "validation_error"]);
    }
    const res = await totals(window(t(0), t(3), 1), a.token);
    expect(res.status).toBe(403);
  });

  it("shows a gap when a mirror row's balance_after is not what the movements made", async () => {
    // The balance line reads each wallet's last balance_after before the bucket's end, so the last row is changed.
    await tamper(
      "UPDATE ledger_entries SET balance_after = balance_after + 7 WHERE wallet_id = ?1 AND seq = (SELECT max(seq) FROM ledger_entries WHERE wallet_id = ?1)",
      a.wallet_id,
    );
    const res = await totals(window(t(0), t(3), 1));
    expect(res.json.buckets).toEqual([{ end: new Date(t(3)).toISOString(), net: 13_000, balances: 13_007 }]);
  });
});
