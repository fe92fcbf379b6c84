/**
 * Balances in the past and statements (v1.1), owner only. Both are answered from the wallet's own entries on
 * the indexes of its third migration step. A statement is read from the wallet in bounded pages, checked
 * (audit/statements.ts) and only then rendered as signed JSON, CSV or PDF: all three carry the same figures,
 * because all three are rendered from the one checked statement.
 */
import { OpenAPIHono, createRoute } from "@hono/zod-openapi";
import { configOf } from "../../config";
import { assembleStatement, signStatement, StatementInconsistent, StatementTotalsTooLarge, type Statement } from "../../audit/statements";
import { currencyExponent } from "../../domain/currency";
import type { EntryView } from "../../domain/views";
import { log } from "../../observability/log";
import { statementCsv } from "../../statements/csv";
import { statementPdf } from "../../statements/pdf";
import { assetFonts } from "../../statements/fonts";
import { assertOwnWallet } from "../calls";
import type { AppContext, AppEnv } from "../context";
import { ApiError } from "../errors";
import { parseDay, parseInstant } from "../find-params";
import { requireAuth } from "../middleware";
import { withErrors } from "../declared-errors";
import { BalanceAt, BalanceAtQuery, SignedStatement, StatementQuery, WalletIdParam, jsonContent } from "../schemas";

const DAY_MS = 86_400_000;
/** The contract's longest statement period, in days. */
const STATEMENT_MAX_DAYS = 366;
/** Entries per read from the wallet: each RPC answer stays small, whatever the statement's length. */
const STATEMENT_PAGE = 500;

const balanceRoute = createRoute(
  withErrors(
    {
      method: "get",
      path: "/wallets/{wallet_id}/balance",
      summary: "The balance just after the last entry at or before an instant (seq 0 and balance 0 before the first)",
      middleware: [requireAuth] as const,
      request: { params: WalletIdParam, query: BalanceAtQuery },
      responses: { 200: jsonContent(BalanceAt, "The balance at that instant") },
    },
    ["validation_error", "forbidden", "not_found", "unavailable"],
  ),
);

const statementRoute = createRoute(
  withErrors(
    {
      method: "get",
      path: "/wallets/{wallet_id}/statement",
      summary: "A signed statement of UTC days `from` to `to` (inclusive) as JSON, CSV or PDF",
      middleware: [requireAuth] as const,
      request: { params: WalletIdParam, query: StatementQuery },
      responses: {
        200: {
          description: "The statement: signed JSON, RFC 4180 CSV or a printable PDF, by `format`",
          content: {
            "application/json": { schema: SignedStatement },
            "text/csv": { schema: { type: "string" } },
            "application/pdf": { schema: { type: "string", format: "binary" } },
          },
        },
      },
    },
    ["validation_error", "limit_exceeded", "forbidden", "not_found", "unavailable", "internal"],
  ),
);

/** The statements sub-app, mounted under /api/v1. */
export const statementRoutes = new OpenAPIHono<AppEnv>();

statementRoutes.openapi(balanceRoute, async (c) => {
  const { wallet_id } = c.req.valid("param");
  // "At or before" is an inclusive upper bound, so digits past the millisecond round down (find-params.ts).
  const at = parseInstant("at", c.req.valid("query").at, "down");
  await assertOwnWallet(c, wallet_id);
  const result = await c.env.WALLET.getByName(wallet_id).balanceAt(at);
  if (result.code !== "ok") throw new ApiError("not_found");
  return c.json({ wallet_id, at, balance: result.balance, seq: result.seq }, 200);
});

statementRoutes.openapi(statementRoute, async (c) => {
  const { wallet_id } = c.req.valid("param");
  const query = c.req.valid("query");
  const from_ms = parseDay("from", query.from);
  const to_ms = parseDay("to", query.to);
  if (to_ms < from_ms) throw new ApiError("validation_error", [{ field: "to", issue: "must not be before from" }]);
  if ((to_ms - from_ms) / DAY_MS + 1 > STATEMENT_MAX_DAYS) {
    throw new ApiError("limit_exceeded", [{ field: "to", issue: `at most ${STATEMENT_MAX_DAYS} days from from` }]);
  }
  await assertOwnWallet(c, wallet_id);
  const statement = await readStatement(c, wallet_id, query.from, query.to, from_ms, to_ms + DAY_MS);
  const name = `statement_${wallet_id}_${query.from}_${query.to}`;
  const format = query.format ?? "json";
  if (format === "json") {
    return c.json(await signStatement(c.env, statement), 200, { "content-disposition": `attachment; filename="${name}.json"` });
  }
  const exponent = currencyExponent(statement.currency);
  if (format === "csv") {
    return c.body(statementCsv(statement, exponent), 200, {
      "content-type": "text/csv; charset=utf-8; header=present",
      "content-disposition": `attachment; filename="${name}.csv"`,
    });
  }
  const pdf = await statementPdf(statement, exponent, assetFonts(c.env.ASSETS));
  return c.body(new Uint8Array(pdf), 200, {
    "content-type": "application/pdf",
    "content-disposition": `attachment; filename="${name}.pdf"`,
  });
});

/**
 * Reads the period's entries from the wallet in bounded pages and assembles the checked statement. The
 * wallet fixes the period's seq range first, so entries appended while the pages are read (today's period)
 * are not included half-way; the count is checked against STATEMENT_MAX_ENTRIES before any entry is read.
 */
async function readStatement(
  c: AppContext,
  wallet_id: string,
  from: string,
  to: string,
  from_ms: number,
  end_ms: number,
): Promise<Statement> {
  const stub = c.env.WALLET.getByName(wallet_id);
  const bounds = await stub.statementBounds({ from: new Date(from_ms).toISOString(), to: new Date(end_ms).toISOString() });
  if (bounds.code !== "ok") throw new ApiError("not_found");
  const max = configOf(c.env).statement_max_entries;
  if (bounds.hi - bounds.lo + 1 > max) throw new ApiError("limit_exceeded", [{ field: "STATEMENT_MAX_ENTRIES", issue: `at most ${max}` }]);
  const entries: EntryView[] = [];
  for (let after = bounds.lo - 1; after < bounds.hi;) {
    const page = await stub.entryRange({ after_seq: after, upto_seq: bounds.hi, limit: STATEMENT_PAGE });
    if (page.code !== "ok" || page.items.length === 0) break;
    entries.push(...page.items);
    after = page.items[page.items.length - 1]?.seq ?? bounds.hi;
  }
  try {
    return assembleStatement({
      wallet_id,
      currency: bounds.currency,
      from,
      to,
      lo: bounds.lo,
      opening_balance: bounds.opening_balance,
      chain_head: bounds.chain_head,
      entries,
    });
  } catch (error) {
    if (error instanceof StatementTotalsTooLarge) {
      throw new ApiError("limit_exceeded", [
        { field: "to", issue: "the period's totals pass 2^53 - 1 minor units; ask for a shorter period" },
      ]);
    }
    if (error instanceof StatementInconsistent) {
      log("error", "statement does not add up; not sent", { request_id: c.get("request_id"), wallet_id, from, to, problem: error.message });
      throw new ApiError("internal");
    }
    throw error;
  }
}
