// The transparency-log half of `npm run verify-receipt`: a receipt's `log` (api-contract.md, "The transparency
// log") holds a signed checkpoint and an RFC 9162 inclusion proof for each of the receipt's entries. This checks,
// with nothing from the service but the log key the caller trusts:
//   - the checkpoint is a well-formed C2SP checkpoint signed by that log key (its origin is the key's name),
//   - each proof names one of the receipt's entries, every entry has exactly one proof, and the leaf
//     JSON.stringify([wallet_id, seq, hash]) built from the *signed* entry is included at `leaf_index` in the tree
//     the checkpoint commits to.
// The parsing is strict (no unknown fields, lower-case hex only, integers only), so that a change of any byte of
// the `log` either breaks a signature or a proof or is refused as malformed: none goes unnoticed.
import { hashFromHex, leafHash, logLeaf, verifyInclusion } from "../src/domain/merkle.ts";
import { checkNoteSignature, parseCheckpointBody, parseNote, parseVerifierKey } from "../src/domain/signed-note.ts";

/** The most hashes an inclusion proof of a safe-integer tree size can have. */
const PROOF_MAX_HASHES = 64;

/**
 * Whether `value` is a plain object with exactly the keys `keys`.
 * @param {unknown} value
 * @param {string[]} keys
 * @returns {value is Record<string, unknown>}
 */
function hasExactly(value, keys) {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const own = Object.keys(value).sort();
  return own.length === keys.length && [...keys].sort().every((k, i) => own[i] === k);
}

/**
 * What is wrong with a receipt's log proofs (nothing: `problems` is empty), and what was checked, for the report.
 * @param {any} signed  the receipt file: {receipt, signature, log}
 * @param {string} logVkey  the log's verifier key (C2SP signed-note form)
 * @returns {Promise<{ problems: string[], checked: string[] }>}
 */
export async function receiptLogProblems(signed, logVkey) {
  const problems = [];
  const checked = [];
  const log = signed?.log;
  if (!hasExactly(log, ["checkpoint", "proofs"]) || typeof log.checkpoint !== "string" || !Array.isArray(log.proofs))
    return { problems: ["`log` is not {checkpoint, proofs}"], checked };
  let key;
  try {
    key = parseVerifierKey(logVkey);
  } catch (error) {
    return { problems: [`the log key is not a verifier key: ${error instanceof Error ? error.message : String(error)}`], checked };
  }
  let note;
  let checkpoint;
  try {
    note = parseNote(log.checkpoint);
    checkpoint = parseCheckpointBody(note.body);
  } catch (error) {
    return { problems: [`the log checkpoint is malformed: ${error instanceof Error ? error.message : String(error)}`], checked };
  }
  if (checkpoint.origin !== key.name)
    problems.push(`the checkpoint is of the log "${checkpoint.origin}", not "${key.name}" (the key given)`);
  const signature = await checkNoteSignature(note, key);
  if (signature.code !== "verified")
    problems.push(
      signature.code === "missing"
        ? "the checkpoint is not signed by the log key given"
        : "the log's signature on the checkpoint does not verify",
    );
  else checked.push(`checkpoint of ${checkpoint.size} leaves signed by ${key.name}+${key.keyId.toString(16).padStart(8, "0")}`);
  const entries = Array.isArray(signed?.receipt?.entries) ? signed.receipt.entries : [];
  const proven = new Set();
  for (const [i, proof] of log.proofs.entries()) {
    const problem = proofProblem(proof, entries, checkpoint);
    if (problem !== null) {
      problems.push(`proof ${i}: ${problem}`);
      continue;
    }
    const id = `${proof.wallet_id}#${proof.seq}`;
    if (proven.has(id)) problems.push(`proof ${i}: a second proof for ${proof.wallet_id} seq ${proof.seq}`);
    proven.add(id);
    checked.push(`${proof.wallet_id} seq ${proof.seq} is leaf ${proof.leaf_index} of that checkpoint`);
  }
  for (const e of entries)
    if (!proven.has(`${e?.wallet_id}#${e?.seq}`)) problems.push(`no valid inclusion proof for the entry ${e?.wallet_id} seq ${e?.seq}`);
  return { problems, checked };
}

/**
 * What is wrong with one inclusion proof, or null when it proves its entry is in the checkpoint's tree.
 * @param {unknown} proof
 * @param {any[]} entries
 * @param {{ size: number, root: Uint8Array }} checkpoint
 */
function proofProblem(proof, entries, checkpoint) {
  if (!hasExactly(proof, ["wallet_id", "seq", "leaf_index", "inclusion"])) return "not {wallet_id, seq, leaf_index, inclusion}";
  const { wallet_id, seq, leaf_index, inclusion } = proof;
  if (typeof wallet_id !== "string" || !Number.isSafeInteger(seq) || !Number.isSafeInteger(leaf_index)) return "malformed fields";
  if (
    !Array.isArray(inclusion) ||
    inclusion.length > PROOF_MAX_HASHES ||
    !inclusion.every((h) => typeof h === "string" && /^[0-9a-f]{64}$/.test(h))
  )
    return "the inclusion proof is not a list of lower-case hex hashes";
  const entry = entries.find((e) => e?.wallet_id === wallet_id && e?.seq === seq);
  if (entry === undefined) return `${wallet_id} seq ${seq} is not one of the receipt's entries`;
  if (typeof entry.hash !== "string" || !/^[0-9a-f]{64}$/.test(entry.hash)) return `the entry ${wallet_id} seq ${seq} has no hash`;
  const leaf = leafHash(logLeaf(wallet_id, /** @type {number} */ (seq), entry.hash));
  const ok = verifyInclusion(leaf, /** @type {number} */ (leaf_index), checkpoint.size, inclusion.map(hashFromHex), checkpoint.root);
  return ok ? null : `the entry ${wallet_id} seq ${seq} is not proven to be leaf ${leaf_index} of the checkpoint's tree`;
}
