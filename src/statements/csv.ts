/**
 * A statement as RFC 4180 CSV: CRLF line ends, a header row, a cell quoted when it holds a comma, a quote, CR
 * or LF (quotes doubled). Money is an exact decimal string in major units (domain/money-format.ts).
 *
 * Formula injection: a spreadsheet runs a cell that starts with `=`, `+`, `-`, `@`, tab or CR as a formula,
 * so every text cell that does (a memo, a counterparty) gets a leading `'`, which spreadsheets show as text.
 * The guard is applied to text cells only. Numeric cells (`seq`, `amount`, `balance_after`) are written by
 * this code from integers, so they can only be numbers; a negative amount legitimately starts with `-` and
 * must stay a number a spreadsheet can add up, so it is not prefixed.
 */
import type { Statement } from "../audit/statements";
import { formatMinor } from "../domain/money-format";

/** The contract's header row. */
export const CSV_HEADER = "seq,created_at,kind,amount,currency,balance_after,counterparty,memo,transfer_id,hash";

/** A text cell: guarded against formula injection, then quoted as RFC 4180 needs. */
export function textCell(value: string | null): string {
  if (value === null) return "";
  const guarded = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(guarded) ? `"${guarded.replace(/"/g, '""')}"` : guarded;
}

/** The whole statement as CSV text; `exponent` is the currency's minor-unit exponent. */
export function statementCsv(statement: Statement, exponent: number): string {
  const lines = [CSV_HEADER];
  for (const e of statement.entries) {
    lines.push(
      [
        String(e.seq),
        textCell(e.created_at),
        textCell(e.kind),
        formatMinor(e.amount, exponent),
        textCell(statement.currency),
        formatMinor(e.balance_after, exponent),
        textCell(e.counterparty),
        textCell(e.memo),
        textCell(e.transfer_id),
        textCell(e.hash),
      ].join(","),
    );
  }
  return `${lines.join("\r\n")}\r\n`;
}
