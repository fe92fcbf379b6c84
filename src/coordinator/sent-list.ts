/**
 * The page of a user's sent transfers that `listSent` answers: the stored page (coordinator/sent-queries.ts)
 * merged with the successes the coordinator has decided in memory and not yet written (see its `finished`),
 * each with its `refunded_amount`.
 */
import { movementView } from "./movements";
import type { MovementView, SentQuery } from "./rpc";
import type { MovementRow } from "./schema";
import { matchesSent, newestFirst, sentPage } from "./sent-queries";

/**
 * A page of sent transfers, newest first, before `input.before` (exclusive). Successes still waiting for the
 * outbox are read from `finished`, where they are decided.
 */
export function sentTransfers(
  sql: SqlStorage,
  finished: ReadonlyMap<string, MovementRow>,
  refunded: (transfer_id: string) => number,
  input: SentQuery,
): MovementView[] {
  const wanted = input.status;
  // A success in memory is still `started` in storage, so "succeeded" also reads started rows, and "pending"
  // then drops the ones memory has decided; reading as many more rows as memory holds keeps the page full.
  const states: MovementRow["state"][] | null =
    wanted === null ? null : wanted === "pending" ? ["started"] : wanted === "succeeded" ? ["succeeded", "started"] : ["failed"];
  const filter = {
    states,
    from_wallet_ids: input.wallet_ids,
    to_wallet_ids: input.to_wallet_ids,
    from_ms: input.from_ms,
    before: input.before,
    limit: input.limit + finished.size,
  };
  const stored = sentPage(sql, filter).rows.map((row) => finished.get(row.id) ?? row);
  // Its row has no recipient yet, so a filter by counterparty finds such a success in memory only.
  const listed = new Set(stored.map((row) => row.id));
  const decided = [...finished.values()].filter((m) => !listed.has(m.id) && matchesSent(m, filter));
  return [...stored, ...decided]
    .sort(newestFirst)
    .map((row) => ({ ...movementView(row), refunded_amount: refunded(row.id) }))
    .filter((v) => wanted === null || v.status === wanted)
    .slice(0, input.limit);
}
