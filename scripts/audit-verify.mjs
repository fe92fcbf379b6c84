#!/usr/bin/env node
// `npm run audit:verify -- --url URL`: runs GET /api/v1/audit/verify page by page against a local or deployed
// instance, with a progress bar, and prints a readable report. Exit 0 when the ledger verifies, 1 when it
// has problems, 2 on usage or connection errors.
//   --url URL            the service (default http://127.0.0.1:8787)
//   --handle H           an auditor's handle (default $AUDIT_HANDLE or "auditor")
//   --password P         its password (default $AUDIT_PASSWORD or "demo-password", the local demo's)
//   --token T            use this session token instead of logging in ($AUDIT_TOKEN)
//   --page N             wallets per page (default 50)
const args = process.argv.slice(2);
const option = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1] : fallback;
};
const base = option("--url", "http://127.0.0.1:8787");
const page = Number(option("--page", "50"));
/**
 * Prints a usage or connection error and exits 2.
 * @param {string} message
 * @returns {never}
 */
function fail(message) {
  console.error(`audit:verify: ${message}`);
  process.exit(2);
}

/**
 * Why fetch could not reach the service: the system error's code (ECONNREFUSED, ENOTFOUND) when fetch's `cause`
 * carries one, else the error's message.
 * @param {unknown} error
 */
function unreachable(error) {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause;
  const code = typeof cause === "object" && cause !== null && "code" in cause ? cause.code : undefined;
  return String(code ?? error.message);
}

async function call(path, init = {}) {
  let res;
  try {
    res = await fetch(new URL(`/api/v1${path}`, base), init);
  } catch (error) {
    fail(`cannot reach ${base}: ${unreachable(error)}`);
  }
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : null };
}

let token = option("--token", process.env.AUDIT_TOKEN);
if (!token) {
  const handle = option("--handle", process.env.AUDIT_HANDLE ?? "auditor");
  const password = option("--password", process.env.AUDIT_PASSWORD ?? "demo-password");
  const login = await call("/auth/login", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ handle, password }),
  });
  if (login.status !== 200) fail(`login as ${handle} failed (${login.status} ${login.json?.error?.code ?? ""})`);
  token = login.json.token;
}

const bar = (done, total) => {
  const width = 30;
  const filled = total === 0 ? width : Math.round((done / total) * width);
  return `[${"#".repeat(filled)}${".".repeat(width - filled)}] ${done}/${total} wallets`;
};

const problems = [];
let wallets = 0;
let entries = 0;
let pending = 0;
let cursor = null;
const started = Date.now();
do {
  const res = await call(`/audit/verify?limit=${page}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`, {
    headers: { authorization: `Bearer ${token}` },
  });
  if (res.status !== 200) fail(`verify answered ${res.status} ${res.json?.error?.code ?? ""}`);
  const r = res.json;
  problems.push(...r.problems);
  wallets += r.wallets_checked;
  entries += r.entries_checked;
  pending += r.pending;
  cursor = r.next_cursor;
  process.stderr.write(`\r${bar(r.progress.wallets_done, r.progress.wallets_total)}`);
} while (cursor);
process.stderr.write("\n");

console.log(`Verified ${wallets} wallets and ${entries} entries at ${base} in ${((Date.now() - started) / 1_000).toFixed(1)} s.`);
if (pending > 0) console.log(`${pending} recent entries were still on their way to D1 (not problems; run again to include them).`);
if (problems.length === 0) {
  console.log("OK: every chain recomputes, matches its wallet, and the ledger balances (deposits minus withdrawals).");
  process.exit(0);
}
console.log(`PROBLEMS (${problems.length}):`);
const byKind = new Map();
for (const p of problems) byKind.set(p.kind, [...(byKind.get(p.kind) ?? []), p]);
for (const [kind, list] of byKind) {
  console.log(`\n  ${kind} (${list.length})`);
  for (const p of list.slice(0, 20)) {
    const where = [
      p.wallet_id && `wallet ${p.wallet_id}`,
      p.seq !== null && p.seq !== undefined && `seq ${p.seq}`,
      p.transfer_id && `movement ${p.transfer_id}`,
    ]
      .filter(Boolean)
      .join(", ");
    console.log(`    - ${where || "ledger"}: ${p.detail}`);
  }
  if (list.length > 20) console.log(`    … and ${list.length - 20} more`);
}
process.exit(1);
