/**
 * Step 2 of the browser's log check (logverify.ts): the log key GET /log/key serves must be the one this browser
 * pinned on first use, and so must the set of its witnesses' keys. A change of either is an alarm that carries
 * what dismissing it pins, so the user accepts a new key knowingly. Kept apart from the checkpoint and proof
 * checks, which only use the keys this returns.
 */
import { parseVerifierKey, SIG_COSIGNATURE_V1, type VerifierKey } from "../../../src/domain/signed-note";
import { Alarm } from "./alarm";
import { get, jsonOf, type LogFetch, type LogMemory } from "./io";

/** The most witness keys read from GET /log/key: the log accepts at most 16 (config LOG_WITNESSES_MAX). */
const WITNESSES_MAX = 32;

/** The log's key and its witnesses' keys, as pinned (each pinned on first use). */
export async function checkKeys(io: LogFetch, memory: LogMemory): Promise<{ key: VerifierKey; witnesses: VerifierKey[] }> {
  const served = jsonOf(await get(io, "/log/key"), "the log key");
  const fields = typeof served === "object" && served !== null ? (served as { vkey?: unknown; witnesses?: unknown }) : {};
  const key = checkLogKey(fields.vkey, memory);
  return { key, witnesses: checkWitnessKeys(fields.witnesses, memory) };
}

/** The pinned log key (pinning the served one on first use); an alarm when the service now serves another. */
function checkLogKey(vkey: unknown, memory: LogMemory): VerifierKey {
  if (typeof vkey !== "string") throw new Alarm("malformed", "The service's log key is malformed.");
  const pinned = memory.pinnedKey();
  if (pinned !== null && pinned !== vkey)
    throw new Alarm("key_changed", `The log's signing key changed: this browser pinned ${pinned}, the service now serves ${vkey}.`, {
      new_vkey: vkey,
    });
  let key;
  try {
    key = parseVerifierKey(pinned ?? vkey);
  } catch {
    throw new Alarm("malformed", "The service's log key is malformed.");
  }
  if (pinned === null) memory.pinKey(vkey);
  return key;
}

/**
 * The pinned witness keys (pinning the served set on first use). Any change of the set, a witness added, removed
 * or given another key, is an alarm: a service that swapped its witnesses for ones it controls could have a fork
 * cosigned, so only the user, having read what changed, accepts a new set. A service too old to publish its
 * witnesses (no `witnesses` field) serves an empty set.
 */
function checkWitnessKeys(list: unknown, memory: LogMemory): VerifierKey[] {
  const malformed = new Alarm("malformed", "The service's list of witness keys is malformed.");
  if (list !== undefined && (!Array.isArray(list) || list.length > WITNESSES_MAX)) throw malformed;
  const served = ((list ?? []) as unknown[]).map((w) => (w as { vkey?: unknown } | null)?.vkey);
  if (!served.every((v): v is string => typeof v === "string")) throw malformed;
  const keys = served.map((vkey) => {
    try {
      return parseVerifierKey(vkey);
    } catch {
      throw malformed;
    }
  });
  if (keys.some((k) => k.type !== SIG_COSIGNATURE_V1)) throw malformed;
  const sorted = [...new Set(served)].sort();
  const pinned = memory.pinnedWitnesses();
  if (pinned === null) memory.pinWitnesses(sorted);
  else if (pinned.join("\n") !== sorted.join("\n")) throw witnessesChanged(pinned, sorted);
  return sorted.map((vkey) => keys[served.indexOf(vkey)] as VerifierKey);
}

/** The alarm for a changed witness set, naming the keys added and removed. */
function witnessesChanged(pinned: readonly string[], served: string[]): Alarm {
  const added = served.filter((v) => !pinned.includes(v));
  const removed = pinned.filter((v) => !served.includes(v));
  const parts = [added.length > 0 ? `added ${added.join(", ")}` : "", removed.length > 0 ? `removed ${removed.join(", ")}` : ""].filter(
    (p) => p !== "",
  );
  return new Alarm(
    "witnesses_changed",
    `The log's witnesses changed since this browser first saw them: ${parts.join("; ")}. A service could swap in witnesses of its own to cosign a rewritten log; dismiss this only if the operator has announced the change.`,
    { new_witnesses: served },
  );
}
