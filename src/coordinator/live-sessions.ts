/**
 * Ending a session ends its live feed. The coordinator holds the user's sessions and knows the user's wallets,
 * and each wallet holds the sockets opened on it, tagged with the non-secret id of the session they were opened
 * with (wallet/live.ts, `liveSessionId`). So when sessions end here (logout, "log out everywhere", or the oldest
 * pushed out by a new login) the coordinator tells every wallet of the user to close those sessions' sockets.
 * The calls go coordinator → wallet, the direction every money movement already takes; a wallet never asks a
 * coordinator anything.
 *
 * A socket's expiry needs no call: each socket carries its session's expiry and the wallet checks it before
 * every send and replay.
 */
import type { WalletObject } from "../wallet-object";
import { liveSessionId } from "../wallet/live";
import { errorText, log } from "../observability/log";
import { callWallet, type RetryPolicy } from "./wallet-calls";

/**
 * Closes the live sockets of the sessions with these token hashes on each of `wallet_ids`, retrying each wallet
 * as a money step would. A wallet that cannot be reached is logged and skipped: the sessions are already
 * gone, so no new socket opens with them and no replay serves them, and what the unreachable wallet still has
 * open stops at the session's expiry at the latest.
 */
export async function closeLiveSockets(
  wallets: DurableObjectNamespace<WalletObject>,
  wallet_ids: readonly string[],
  token_hashes: readonly string[],
  policy: RetryPolicy,
): Promise<void> {
  if (wallet_ids.length === 0 || token_hashes.length === 0) return;
  const session_ids = await Promise.all(token_hashes.map(liveSessionId));
  const results = await Promise.allSettled(
    wallet_ids.map((id) => callWallet(wallets, id, policy, async (w) => await w.closeSessions(session_ids))),
  );
  results.forEach((r, i) => {
    if (r.status === "rejected")
      log("error", "could not close live sockets of ended sessions", { wallet_id: wallet_ids[i], error: errorText(r.reason) });
  });
}
