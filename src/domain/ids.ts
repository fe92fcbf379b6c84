/**
 * Identifiers: a short prefix naming the kind, then 128 random bits in lower-case Crockford base32, so ids
 * are unguessable, URL-safe and sort nowhere in particular (no timing leaks from ordering).
 *
 * A money movement's id also names the coordinator that owns it, `trf_<user>_<random>`, so that
 * `GET /transfers/{id}` can reach the right coordinator without a directory lookup.
 */

const ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz";

/** `bytes` random bytes encoded as base32 (5 bits per character). */
export function randomBase32(bytes = 16): string {
  const raw = crypto.getRandomValues(new Uint8Array(bytes));
  let out = "";
  let buffer = 0;
  let bits = 0;
  for (const byte of raw) {
    buffer = (buffer << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += ALPHABET[(buffer >>> (bits - 5)) & 31];
      bits -= 5;
    }
    buffer &= (1 << bits) - 1;
  }
  if (bits > 0) out += ALPHABET[(buffer << (5 - bits)) & 31];
  return out;
}

const BODY = "[0-9a-hjkmnp-tv-z]{26}";

/**
 * The shape of every wallet id: `wal_<26>` (audit partition 0, and every wallet made before partitions existed)
 * or `wal_p<k>_<26>` (partition k, 1..99; src/db/partitions.ts). The partition tag is group 1. One definition,
 * used by the server's routing and by the web client's recipient box.
 */
export const WALLET_ID_SHAPE = /^wal_(?:p([1-9][0-9]?)_)?[0-9a-hjkmnp-tv-z]{26}$/;
const USER_ID = new RegExp(`^usr_(${BODY})$`);
const MOVEMENT_ID = new RegExp(`^(trf|dep|wdr)_(${BODY})_${BODY}$`);

export const newUserId = (): string => `usr_${randomBase32()}`;
/**
 * A new wallet id in the main partition; the service places wallets with `newWalletId(env)` from
 * src/db/partitions.ts instead, whose ids name their audit partition.
 */
export const newWalletId = (): string => `wal_${randomBase32()}`;

/** The kinds of money movement, each with its id prefix. */
export type MovementKind = "transfer" | "deposit" | "withdrawal";
const PREFIX: Record<MovementKind, string> = { transfer: "trf", deposit: "dep", withdrawal: "wdr" };

/** A new movement id owned by the coordinator of `userId`. */
export function newMovementId(kind: MovementKind, userId: string): string {
  const match = USER_ID.exec(userId);
  if (match === null || match[1] === undefined) throw new Error(`invariant: bad user id ${userId}`);
  return `${PREFIX[kind]}_${match[1]}_${randomBase32()}`;
}

/** The user whose coordinator owns movement `id`, or null when `id` is not a movement id. */
export function movementOwner(id: string): string | null {
  const match = MOVEMENT_ID.exec(id);
  return match === null || match[2] === undefined ? null : `usr_${match[2]}`;
}

const REQUEST_ID = new RegExp(`^prq_(${BODY})_${BODY}$`);

/** A new payment request id, owned by (and routed to) the requester's coordinator. */
export function newRequestId(requesterId: string): string {
  const match = USER_ID.exec(requesterId);
  if (match === null || match[1] === undefined) throw new Error(`invariant: bad user id ${requesterId}`);
  return `prq_${match[1]}_${randomBase32()}`;
}

/** A new split id (its requests carry it). */
export const newSplitId = (): string => `spl_${randomBase32()}`;

/** The requester whose coordinator owns payment request `id`, or null when `id` is not a request id. */
export function requestOwner(id: string): string | null {
  const match = REQUEST_ID.exec(id);
  return match === null || match[1] === undefined ? null : `usr_${match[1]}`;
}
