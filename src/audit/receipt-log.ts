/**
 * The transparency log's part of a receipt: once a signed checkpoint covers both entries of a transfer, the
 * receipt carries that checkpoint and the entries' inclusion proofs as `log`, beside the signed `receipt` and
 * outside its signature (which never changes). Anyone can then check offline that the entries the receipt
 * names are in the one public log: the checkpoint's signature with the log's key, each proof with RFC 9162.
 */
import type { ReceiptLog } from "../log-object";
import { LOG_OBJECT_NAME } from "../log/name";
import { errorText, log } from "../observability/log";

/** The receipt's `log`, or null while no checkpoint covers every entry (or while the log cannot answer). */
export async function receiptLog(env: Env, entries: readonly { wallet_id: string; seq: number }[]): Promise<ReceiptLog | null> {
  try {
    return await env.LOG.getByName(LOG_OBJECT_NAME).receiptProofs(entries.map((e) => ({ wallet_id: e.wallet_id, seq: e.seq })));
  } catch (error) {
    // A receipt is still a signed receipt without its proofs; the client asks again later.
    log("warn", "receipt without log proofs: the log did not answer", { error: errorText(error) });
    return null;
  }
}
