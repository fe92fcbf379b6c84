/**
 * Balances in the past and statements (v1.1): the balance at an instant; a statement's period, arithmetic,
 * chain head and signature; its limits (366 days, STATEMENT_MAX_ENTRIES, lowered to 60 for tests); CSV with
 * exact decimals and the formula guard; a PDF that parses back with its totals and every memo's glyphs; a
 * statement that does not add up is a 500, never sent; owner only; every bad input a 400 that changes nothing.
 */
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { SignedStatement } from "../../src/audit/statements";
import { canonicalJson } from "../../src/domain/canonical";
import { GENESIS_HASH } from "../../src/domain/hash-chain";
import type { WalletView } from "../../src/domain/views";
import { base64urlDecode } from "../../src/auth/encoding";
import { api, deposit, register, walletStub, type TestUser } from "./helpers";
import { pdfText } from "./pdf-text";
import { seedEntries, type SeedEntry } from "./seed-entries";

const at = (day: number, hour = 12, month = 0) => new Date(Date.UTC(2026, month, day, hour)).toISOString();

/** Jan 1 (+1000), Jan 2 (-250, +40 from bob), Jan 3 (nothing), Jan 4 (-15), Feb 1 (+5). */
const SEED: SeedEntry[] = [
  { kind: "deposit", amount: 1_000, created_at: at(1, 0) },
  { kind: "withdrawal", amount: -250, created_at: at(2, 9) },
  { kind: "transfer_in", amount: 40, created_at: at(2, 23), counterparty: "wal_bob", memo: 'lunch, "thanks"' },
  { kind: "transfer_out", amount: -15, created_at: at(4, 0), counterparty: "wal_bob", memo: '=HYPERLINK("http://x")' },
  { kind: "deposit", amount: 5, created_at: at(1, 0, 1) },
];

async function statement(user: TestUser, query: string) {
  return api<SignedStatement>(`/wallets/${user.wallet_id}/statement?${query}`, { token: user.token });
}

async function verifies(signed: SignedStatement): Promise<boolean> {
  const key = (await api<{ public_key: string }>("/receipts/public-key")).json.public_key;
  const publicKey = await crypto.subtle.importKey("raw", base64urlDecode(key), { name: "Ed25519" }, false, ["verify"]);
  const bytes = new TextEncoder().encode(canonicalJson(signed.statement));
  return crypto.subtle.verify({ name: "Ed25519" }, publicKey, base64urlDecode(signed.signature.value), bytes);
}

describe("balance at an instant", () => {
  it("is the balance after the last entry at or before it; 0 and seq 0 before the first", async () => {
    const a = await register();
    await seedEntries(a.wallet_id, SEED);
    const balance = async (instant: string) =>
      (await api(`/wallets/${a.wallet_id}/balance?at=${encodeURIComponent(instant)}`, { token: a.token })).json;
    expect(await balance("2025-12-31T23:59:59.999Z")).toEqual({
      wallet_id: a.wallet_id,
      at: "2025-12-31T23:59:59.999Z",
      balance: 0,
      seq: 0,
    });
    expect(await balance(at(1, 0))).toMatchObject({ balance: 1_000, seq: 1 });
    expect(await balance("2026-01-02T10:00:00+01:00")).toMatchObject({ at: at(2, 9), balance: 750, seq: 2 });
    expect(await balance("2026-01-02T09:59:59.999+01:00")).toMatchObject({ balance: 1_000, seq: 1 });
    // An instant a fraction of a millisecond before an entry is before it: its digits past the millisecond must
    // not round it up onto the entry, as they rightly do for a range's ends.
    expect(await balance("2026-01-02T08:59:59.9991Z")).toMatchObject({ at: "2026-01-02T08:59:59.999Z", balance: 1_000, seq: 1 });
    expect(await balance(at(3))).toMatchObject({ balance: 790, seq: 3 });
    expect(await balance("2030-01-01T00:00Z")).toMatchObject({ balance: 780, seq: 5 });
  });

  it("refuses a bad instant, another user's wallet and an unknown one", async () => {
    const a = await register();
    const b = await register();
    for (const q of ["", "at=2026-01-01", "at=soon", "at=2026-01-01T25:00:00Z"]) {
      const res = await api(`/wallets/${a.wallet_id}/balance?${q}`, { token: a.token });
      expect(res.status, q).toBe(400);
      expect(res.json).toMatchObject({ error: { code: "validation_error", details: [{ field: "at" }] } });
    }
    expect((await api(`/wallets/${a.wallet_id}/balance?at=2026-01-01T00:00Z`, { token: b.token })).status).toBe(403);
    expect((await api(`/wallets/wal_nope/balance?at=2026-01-01T00:00Z`, { token: b.token })).status).toBe(404);
  });
});

describe("statements", () => {
  it("json: the period's entries oldest first, the balances, totals and chain head, signed with the receipt key", async () => {
    const a = await register();
    await seedEntries(a.wallet_id, SEED);
    const res = await statement(a, "from=2026-01-02&to=2026-01-31");
    expect(res.status, res.text).toBe(200);
    const s = res.json.statement;
    expect(s).toMatchObject({ wallet_id: a.wallet_id, currency: "USD", from: "2026-01-02", to: "2026-01-31" });
    expect(s.entries.map((e) => e.seq)).toEqual([2, 3, 4]);
    expect([s.opening_balance, s.total_in, s.total_out, s.closing_balance]).toEqual([1_000, 40, 265, 775]);
    expect(s.chain_head).toEqual({ seq: 4, hash: s.entries[2]?.hash });
    expect(res.json.signature).toMatchObject({ alg: "Ed25519", key_id: "test-r1" });
    expect(await verifies(res.json)).toBe(true);
    const tampered = { ...res.json, statement: { ...s, total_out: 264 } };
    expect(await verifies(tampered)).toBe(false);
    // `to` is inclusive: the whole of Jan 4 (its entry is at 00:00) and nothing of Jan 5.
    expect((await statement(a, "from=2026-01-04&to=2026-01-04")).json.statement.entries.map((e) => e.seq)).toEqual([4]);
    expect((await statement(a, "from=2026-01-01&to=2026-01-01")).json.statement.entries.map((e) => e.seq)).toEqual([1]);
  });

  it("a period without entries: opening = closing, chain head the last entry before it (or genesis)", async () => {
    const a = await register();
    await seedEntries(a.wallet_id, SEED);
    const quiet = (await statement(a, "from=2026-01-03&to=2026-01-03")).json.statement;
    expect(quiet.entries).toEqual([]);
    expect([quiet.opening_balance, quiet.total_in, quiet.total_out, quiet.closing_balance]).toEqual([790, 0, 0, 790]);
    expect(quiet.chain_head.seq).toBe(3);
    const before = (await statement(a, "from=2025-01-01&to=2025-12-31")).json;
    expect(before.statement).toMatchObject({ opening_balance: 0, closing_balance: 0, chain_head: { seq: 0, hash: GENESIS_HASH } });
    expect(await verifies(before)).toBe(true);
  });

  it("limits: 366 days at most and STATEMENT_MAX_ENTRIES entries, else 422 limit_exceeded", async () => {
    const a = await register();
    expect((await statement(a, "from=2024-01-01&to=2024-12-31")).status).toBe(200); // 366 days (a leap year)
    const long = await statement(a, "from=2025-01-01&to=2026-01-02");
    expect(long.status).toBe(422);
    expect(long.json).toMatchObject({ error: { code: "limit_exceeded", details: [{ field: "to" }] } });
    await seedEntries(
      a.wallet_id,
      Array.from({ length: 61 }, (_, i) => ({
        kind: "deposit" as const,
        amount: 1,
        created_at: new Date(Date.UTC(2026, 0, 10) + i * 1_000).toISOString(),
      })),
    );
    const many = await statement(a, "from=2026-01-10&to=2026-01-10");
    expect(many.status).toBe(422);
    expect(many.json).toMatchObject({
      error: { code: "limit_exceeded", details: [{ field: "STATEMENT_MAX_ENTRIES", issue: "at most 60" }] },
    });
  });

  it("bad inputs are 400 naming the field; another user's wallet 403, an unknown one 404", async () => {
    const a = await register();
    const b = await register();
    await deposit(a, 10);
    const before = (await api<WalletView>(`/wallets/${a.wallet_id}`, { token: a.token })).json;
    for (const [q, field] of [
      ["to=2026-01-01", "from"],
      ["from=2026-01-01", "to"],
      ["from=2026-13-01&to=2026-12-01", "from"],
      ["from=2026-02-29&to=2026-03-01", "from"],
      ["from=2026-1-1&to=2026-01-02", "from"],
      ["from=2026-01-02&to=2026-01-01", "to"],
      ["from=2026-01-01&to=2026-01-02&format=xml", "format"],
    ] as const) {
      const res = await statement(a, q);
      expect(res.status, q).toBe(400);
      const fields = (res.json as unknown as { error: { details: { field: string }[] } }).error.details.map((d) => d.field);
      expect(fields, q).toContain(field);
    }
    expect((await api<WalletView>(`/wallets/${a.wallet_id}`, { token: a.token })).json).toEqual(before);
    expect((await statement({ ...b, wallet_id: a.wallet_id }, "from=2026-01-01&to=2026-01-02")).status).toBe(403);
    expect((await statement({ ...b, wallet_id: "wal_nope" }, "from=2026-01-01&to=2026-01-02")).status).toBe(404);
  });

  it("a statement that does not add up is a 500, and nothing of it is sent", async () => {
    const a = await register();
    await seedEntries(a.wallet_id, SEED.slice(0, 3));
    await runInDurableObject(walletStub(a.wallet_id), (_i, ctx) => {
      ctx.storage.sql.exec("DROP TRIGGER entries_no_update");
      ctx.storage.sql.exec("UPDATE entries SET balance_after = balance_after + 1 WHERE seq = 2");
    });
    const res = await statement(a, "from=2026-01-01&to=2026-01-31");
    expect(res.status).toBe(500);
    expect(res.json).toMatchObject({ error: { code: "internal" } });
    expect(res.text).not.toContain("balance");
  });

  it("csv: RFC 4180, exact decimals in major units (USD, JPY, BHD), formula guard on text cells only", async () => {
    const usd = await register();
    await seedEntries(usd.wallet_id, SEED);
    const res = await api(`/wallets/${usd.wallet_id}/statement?from=2026-01-01&to=2026-01-31&format=csv`, { token: usd.token });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/csv");
    expect(res.headers.get("content-disposition")).toContain(".csv");
    const lines = res.text.split("\r\n");
    expect(lines[0]).toBe("seq,created_at,kind,amount,currency,balance_after,counterparty,memo,transfer_id,hash");
    expect(lines.at(-1)).toBe("");
    const json = (await statement(usd, "from=2026-01-01&to=2026-01-31")).json.statement;
    expect(lines.slice(1, -1)).toEqual([
      `1,${at(1, 0)},deposit,10.00,USD,10.00,,,${json.entries[0]?.transfer_id},${json.entries[0]?.hash}`,
      `2,${at(2, 9)},withdrawal,-2.50,USD,7.50,,,${json.entries[1]?.transfer_id},${json.entries[1]?.hash}`,
      `3,${at(2, 23)},transfer_in,0.40,USD,7.90,wal_bob,"lunch, ""thanks""",${json.entries[2]?.transfer_id},${json.entries[2]?.hash}`,
      `4,${at(4, 0)},transfer_out,-0.15,USD,7.75,wal_bob,"'=HYPERLINK(""http://x"")",${json.entries[3]?.transfer_id},${json.entries[3]?.hash}`,
    ]);
    for (const [currency, amounts, expected] of [
      ["JPY", [1_250, -1], ["1250", "-1"]],
      ["BHD", [1_250, -1, 7], ["1.250", "-0.001", "0.007"]],
      ["USD", [Number.MAX_SAFE_INTEGER], ["90071992547409.91"]],
    ] as const) {
      const u = await register({ currency });
      await seedEntries(
        u.wallet_id,
        amounts.map((amount) => ({ kind: amount > 0 ? "deposit" : "withdrawal", amount, created_at: at(5) })),
      );
      const csv = await api(`/wallets/${u.wallet_id}/statement?from=2026-01-05&to=2026-01-05&format=csv`, { token: u.token });
      expect(
        csv.text
          .split("\r\n")
          .slice(1, -1)
          .map((l) => l.split(",")[3]),
      ).toEqual(expected);
    }
  });

  it("csv guards every text cell that starts with = + - @ tab or CR", async () => {
    const a = await register();
    const memos = ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx", "plain", "a=b"];
    await seedEntries(a.wallet_id, [
      { kind: "deposit", amount: 100, created_at: at(6) },
      ...memos.map((memo) => ({ kind: "deposit" as const, amount: 1, created_at: at(6), memo, counterparty: memo })),
    ]);
    const csv = (await api(`/wallets/${a.wallet_id}/statement?from=2026-01-06&to=2026-01-06&format=csv`, { token: a.token })).text;
    for (const memo of memos.slice(0, 4)) expect(csv).toContain(`,'${memo},'${memo},`);
    expect(csv).toContain(`,"'\tx","'\tx",`.replace(/"/g, "").replace(/,/g, ","));
    expect(csv).toContain(`"'\rx","'\rx"`);
    expect(csv).toContain(",plain,plain,");
    expect(csv).toContain(",a=b,a=b,");
  });

  it("pdf: a statement of plain text embeds no font at all", async () => {
    const a = await register();
    await seedEntries(a.wallet_id, [{ kind: "deposit", amount: 100, created_at: at(8), memo: "café, naïve — plain" }]);
    const res = await fetchRaw(a, "from=2026-01-08&to=2026-01-08&format=pdf");
    const text = await pdfText(new Uint8Array(await res.arrayBuffer()));
    expect(text.glyphs.size).toBe(0);
    expect(text.runs.flat()).toContain("Closing balance: 1.00 USD");
  });

  it("pdf: parses back, with the totals and every memo's script drawn with real glyphs", async () => {
    const a = await register();
    const memos = ["家賃 東京", "شكرا جزيلا", "שלום", "Привет Ελλάδα", "नमस्ते", "pizza 🍕"];
    await seedEntries(a.wallet_id, [
      { kind: "deposit", amount: 100_000, created_at: at(7) },
      ...memos.map((memo, i) => ({
        kind: "transfer_out" as const,
        amount: -(i + 1) * 101,
        created_at: at(7, 13),
        memo,
        counterparty: "wal_someone",
      })),
    ]);
    const res = await api(`/wallets/${a.wallet_id}/statement?from=2026-01-07&to=2026-01-07&format=pdf`, { token: a.token });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/pdf");
    const bytes = new Uint8Array(await (await fetchRaw(a, "from=2026-01-07&to=2026-01-07&format=pdf")).arrayBuffer());
    expect(new TextDecoder().decode(bytes.slice(0, 5))).toBe("%PDF-");
    const text = await pdfText(bytes);
    expect(text.pages).toBe(1);
    const all = text.runs.flat();
    for (const line of [
      "Opening balance: 0.00 USD",
      "Total in: 1000.00 USD",
      "Total out: 21.21 USD",
      "Closing balance: 978.79 USD",
      "-6.06",
      "978.79",
    ]) {
      expect(all, line).toContain(line);
    }
    const drawn = all.join("");
    for (const word of ["家賃", "東京", "Привет", "Ελλάδα", "pizza", "🍕"]) expect(drawn).toContain(word);
    // Arabic and Hebrew runs are laid out right to left, so their characters come back reversed.
    // Right-to-left runs are laid out right to left, so their characters come back reversed. Arabic is also
    // shaped: its joining forms are other glyphs, some of which the ToUnicode map cannot name (read back as
    // U+FFFD), so only the unjoined letters are compared; the glyphs themselves are checked below.
    expect(drawn).toContain([..."שלום"].reverse().join(""));
    expect(drawn).toMatch(/ا[^\s]*ش/);
    // Helvetica draws the plain text; Noto fonts are embedded for the CJK, Arabic, Hebrew, Cyrillic/Greek,
    // Devanagari and emoji characters.
    expect(text.glyphs.size).toBeGreaterThanOrEqual(6);
    for (const [font, ids] of text.glyphs)
      expect(
        ids.filter((id) => id === 0),
        `.notdef in ${font}`,
      ).toEqual([]);
  });

  it("pdf: a memo in any of the scripts the fonts cover is drawn with real glyphs, one font per script", async () => {
    const a = await register();
    // One memo per font of src/statements/fonts.ts beyond those of the test above: Korean, Thai, Tamil, Ethiopic,
    // Georgian, Syriac, Cherokee, mathematical letters, Armenian, Bengali, Khmer, Telugu, Gujarati, Gurmukhi,
    // Kannada, Malayalam, Sinhala, Lao and Myanmar.
    const memos = [
      "감사합니다",
      "ขอบคุณ",
      "நன்றி",
      "አመሰግናለሁ",
      "მადლობა",
      "ܫܠܡܐ",
      "ᏩᏙ",
      "𝐀𝐁𝐂 ∑",
      "Շնորհակալություն",
      "ধন্যবাদ",
      "អរគុណ",
      "ధన్యవాదాలు",
      "આભાર",
      "ਧੰਨਵਾਦ",
      "ಧನ್ಯವಾದ",
      "നന്ദി",
      "ස්තූතියි",
      "ຂອບໃຈ",
      "ကျေးဇူး",
      // Sequences fontkit's shapers throw on (a lone virama; Gurmukhi's mark anchors): drawn unshaped, never a 500.
      "්",
      "्",
    ];
    await seedEntries(a.wallet_id, [
      { kind: "deposit", amount: 100_000, created_at: at(9) },
      ...memos.map((memo, i) => ({
        kind: "transfer_out" as const,
        amount: -(i + 1),
        created_at: at(9, 13),
        memo,
        counterparty: "wal_someone",
      })),
    ]);
    const res = await fetchRaw(a, "from=2026-01-09&to=2026-01-09&format=pdf");
    expect(res.status).toBe(200);
    const bytes = new Uint8Array(await res.arrayBuffer());
    const text = await pdfText(bytes);
    // Scripts drawn without reordering or joining come back as written.
    const drawn = text.runs.flat().join("");
    for (const word of ["감사합니다", "მადლობა", "ᏩᏙ", "𝐀𝐁𝐂", "Շնորհակալություն", "አመሰግናለሁ"]) expect(drawn).toContain(word);
    // A font of its own for each script (plus the Latin one for the digits and spaces around them), and no
    // character drawn as the empty box (.notdef, glyph 0) in any of them.
    expect(text.glyphs.size).toBeGreaterThanOrEqual(19);
    for (const [font, ids] of text.glyphs)
      expect(
        ids.filter((id) => id === 0),
        `.notdef in ${font}`,
      ).toEqual([]);
  });
});

async function fetchRaw(user: TestUser, query: string): Promise<Response> {
  const { exports } = await import("cloudflare:workers");
  return exports.default.fetch(
    new Request(`https://wallet.test/api/v1/wallets/${user.wallet_id}/statement?${query}`, {
      headers: { authorization: `Bearer ${user.token}` },
    }),
  );
}
