/**
 * Signed checkpoints and witness cosignatures in the log object's SQLite: signing a checkpoint when the tree
 * grew, serving a checkpoint with the cosignatures of the witnesses configured now, and accepting a
 * cosignature (a C2SP `cosignature/v1` line from a key in LOG_WITNESS_KEYS over a checkpoint this log signed).
 */
import {
  checkNoteSignature,
  formatCheckpointBody,
  formatNote,
  parseCheckpointBody,
  parseNote,
  signNoteBody,
  type VerifierKey,
} from "../domain/signed-note";
import type { LogSigner } from "./keys";

/** A stored checkpoint. */
export interface CheckpointRow {
  tree_size: number;
  root: Uint8Array;
  note: string;
  signed_at: string;
}

/** Candidates `witnessed` looks at: the newest checkpoints the first witness cosigned. */
const WITNESSED_CANDIDATES = 256;

/** The answer to a posted cosignature: stored (or already held), or refused with the reason. */
export type CosignResult = { code: "ok"; stored: number } | { code: "invalid"; issue: string };

/** The checkpoints and cosignatures of one log object. */
export class CheckpointStore {
  constructor(private readonly sql: SqlStorage) {}

  /** The newest checkpoint, or null before the first is signed. */
  latest(): CheckpointRow | null {
    return this.rows("SELECT tree_size, root, note, signed_at FROM checkpoints ORDER BY tree_size DESC LIMIT 1")[0] ?? null;
  }

  /** The checkpoint of exactly `size` leaves, if one was signed. */
  bySize(size: number): CheckpointRow | null {
    return this.rows("SELECT tree_size, root, note, signed_at FROM checkpoints WHERE tree_size = ?", size)[0] ?? null;
  }

  /** Checkpoints with more than `after` leaves, oldest first, at most `limit`. */
  after(after: number, limit: number): CheckpointRow[] {
    return this.rows(
      "SELECT tree_size, root, note, signed_at FROM checkpoints WHERE tree_size > ? ORDER BY tree_size LIMIT ?",
      after,
      limit,
    );
  }

  private rows(query: string, ...binds: unknown[]): CheckpointRow[] {
    return this.sql
      .exec<{ tree_size: number; root: ArrayBuffer; note: string; signed_at: string }>(query, ...binds)
      .toArray()
      .map((r) => ({ ...r, root: new Uint8Array(r.root) }));
  }

  /** Signs and stores the checkpoint of the tree of `size` leaves with root `root`. */
  async sign(origin: string, size: number, root: Uint8Array, signer: LogSigner, now: Date): Promise<CheckpointRow> {
    const body = formatCheckpointBody({ origin, size, root });
    const note = formatNote(body, [await signNoteBody(body, signer)]);
    const row = { tree_size: size, root, note, signed_at: now.toISOString() };
    // ON CONFLICT DO NOTHING: two signings of one size (impossible while feeding is serialised) keep the first.
    this.sql.exec(
      "INSERT INTO checkpoints (tree_size, root, note, signed_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
      size,
      root,
      note,
      row.signed_at,
    );
    return this.bySize(size) ?? row;
  }

  /** The checkpoint's note with the cosignature lines of the witnesses in `witnesses` appended. */
  withCosignatures(checkpoint: CheckpointRow, witnesses: readonly VerifierKey[]): string {
    if (witnesses.length === 0) return checkpoint.note;
    const wanted = new Set(witnesses.map((k) => `${k.name}\n${k.keyId}`));
    const lines = this.sql
      .exec<{ key_name: string; key_id: number; line: string }>(
        "SELECT key_name, key_id, line FROM cosignatures WHERE tree_size = ? ORDER BY key_name, key_id",
        checkpoint.tree_size,
      )
      .toArray()
      .filter((r) => wanted.has(`${r.key_name}\n${r.key_id}`))
      .map((r) => `${r.line}\n`);
    return checkpoint.note + lines.join("");
  }

  /**
   * The newest checkpoint cosigned by every key in `witnesses` (the latest when none are configured), among
   * the newest WITNESSED_CANDIDATES the first witness cosigned, so the search stays bounded however long the log.
   */
  witnessed(witnesses: readonly VerifierKey[]): CheckpointRow | null {
    const [first, ...others] = witnesses;
    if (first === undefined) return this.latest();
    const candidates = this.sql
      .exec<{ tree_size: number }>(
        "SELECT tree_size FROM cosignatures WHERE key_name = ? AND key_id = ? ORDER BY tree_size DESC LIMIT ?",
        first.name,
        first.keyId,
        WITNESSED_CANDIDATES,
      )
      .toArray();
    for (const { tree_size } of candidates) {
      const all = others.every(
        (k) =>
          this.sql
            .exec("SELECT 1 FROM cosignatures WHERE tree_size = ? AND key_name = ? AND key_id = ?", tree_size, k.name, k.keyId)
            .toArray().length > 0,
      );
      if (all) return this.bySize(tree_size);
    }
    return null;
  }

  /**
   * Accepts a posted checkpoint carrying cosignatures: its text must be a checkpoint this log signed, byte for
   * byte, and it must carry at least one valid `cosignature/v1` line by a key in `witnesses`; a line by such a
   * key that fails to verify refuses the whole post. Each witness's first cosignature of a checkpoint is kept.
   */
  async accept(text: string, origin: string, witnesses: readonly VerifierKey[], now: Date): Promise<CosignResult> {
    let size: number;
    let note: ReturnType<typeof parseNote>;
    try {
      note = parseNote(text);
      const checkpoint = parseCheckpointBody(note.body);
      if (checkpoint.origin !== origin) return { code: "invalid", issue: `not a checkpoint of ${origin}` };
      size = checkpoint.size;
    } catch (error) {
      return { code: "invalid", issue: error instanceof TypeError || error instanceof RangeError ? error.message : "not a checkpoint" };
    }
    const signed = this.bySize(size);
    if (signed === null || parseNote(signed.note).body !== note.body) return { code: "invalid", issue: "not a checkpoint this log signed" };
    const accepted: { key: VerifierKey; line: string; timestamp: number }[] = [];
    for (const key of witnesses) {
      const check = await checkNoteSignature(note, key);
      if (check.code === "bad_signature") return { code: "invalid", issue: `the cosignature of ${key.name} does not verify` };
      if (check.code !== "verified" || check.timestamp === undefined) continue;
      const line = note.signatures.find((s) => s.name === key.name && s.keyId === key.keyId)?.line;
      if (line !== undefined) accepted.push({ key, line, timestamp: check.timestamp });
    }
    if (accepted.length === 0) return { code: "invalid", issue: "no cosignature by a witness key in LOG_WITNESS_KEYS" };
    for (const a of accepted) {
      this.sql.exec(
        "INSERT INTO cosignatures (tree_size, key_name, key_id, line, cosigned_at_s, received_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
        size,
        a.key.name,
        a.key.keyId,
        a.line,
        a.timestamp,
        now.toISOString(),
      );
    }
    return { code: "ok", stored: accepted.length };
  }
}

/** A checkpoint note's parsed body (size and root), for callers that hold only the text. */
export function checkpointOfNote(text: string): { size: number; root: Uint8Array } {
  const c = parseCheckpointBody(parseNote(text).body);
  return { size: c.size, root: c.root };
}
