/**
 * TransparencyLog: the one Durable Object (named "log") that holds the public, append-only Merkle tree of every
 * history entry (api-contract.md, "The transparency log"; docs/architecture.md, "Transparency log").
 *
 * It is fed off the money path: its alarm, every LOG_CHECKPOINT_INTERVAL_MS, reads the entries that the
 * `ledger_entries` mirrors received since the last wake (written there by each coordinator's outbox), from every
 * audit partition's D1 (src/db/partitions.ts), appends them as leaves in batches of at most
 * LOG_APPEND_BATCH_MAX per partition, and signs a checkpoint when the tree grew. No transfer waits for it and no
 * coordinator calls it. The Cron that runs every minute arms the alarm if it is not (a fresh deployment, or an
 * alarm lost), so the log always catches up.
 *
 * Why the cursor is safe: each leaf records the partition and the rowid it was read from, and each partition has
 * its own cursor, the largest rowid appended from it. Within one partition a rowid is a cursor that cannot skip
 * a row: `ledger_entries` is a rowid table (its primary key is (wallet_id, seq), not an INTEGER PRIMARY KEY, and
 * it is not WITHOUT ROWID), so SQLite gives each new row max(rowid) + 1; rows are never deleted (triggers refuse
 * it), so that maximum never falls and no rowid is reused; and each D1 database runs one write transaction at a
 * time, so a row committed later has a larger rowid than every row committed before it in that database. A
 * reader that has seen rowid R of a partition has therefore seen every row of it with a smaller rowid, and
 * "rowid > R" can never skip one. Rowids of different partitions are unrelated, so they are never compared: a
 * batch takes each partition's next rows and merges them (by creation time, each partition's own order kept),
 * and the leaf indexes they get are theirs for ever. A partition that fails or does not answer within
 * FEED_READ_TIMEOUT_MS keeps its cursor and is read again on the next pass, so it delays only its own rows and
 * loses none; the others go on. (A D1 restore that renumbered rows would break this; the auditor's verify, which
 * lines each partition's rows up with its leaves one by one, would report any row skipped.)
 */
import { DurableObject } from "cloudflare:workers";
import { configOf } from "./config";
import { migrate } from "./db/do-migrations";
import { hashToHex, logLeaf } from "./domain/merkle";
import { CheckpointStore, type CheckpointRow, type CosignResult } from "./log/checkpoints";
import { logSigner } from "./log/keys";
import { LOG_SCHEMA } from "./log/schema";
import { pickWindows } from "./log/windows";
import { TreeStore, type LeafInput, type LeafRow } from "./log/tree";
import { errorText, log } from "./observability/log";
import { partitionDbs, readNewEntries } from "./db/partitions";

export { LOG_OBJECT_NAME } from "./log/name";

/** How long one wake-up appends before it signs what it has and comes back at once for the rest. */
const FEED_BUDGET_MS = 5_000;

/**
 * How long one partition's read may take before this pass goes on without it. Well inside FEED_BUDGET_MS, so a
 * stalled partition cannot hold the other partitions' leaves (and the checkpoint) back for more than one read.
 */
const FEED_READ_TIMEOUT_MS = 2_000;

/** What one feeding pass did. */
export interface FeedResult {
  appended: number;
  tree_size: number;
  signed: boolean;
  /** True when D1 held more than this pass had time for. */
  behind: boolean;
  /** The partitions whose last read in this pass failed or timed out: their rows wait for a later pass. */
  stalled: number[];
}

/** An inclusion proof, as GET /log/proof serves it. */
export type ProofResult =
  | { code: "ok"; leaf_index: number; tree_size: number; leaf: string; inclusion: string[] }
  | { code: "not_found" }
  | { code: "tree_size_too_large"; latest: number };

/** A consistency proof, as GET /log/consistency serves it. */
export type ConsistencyResult = { code: "ok"; from: number; to: number; proof: string[] } | { code: "bad_range"; latest: number };

/** The log part of a receipt: the latest checkpoint and the inclusion proofs of the entries in it. */
export interface ReceiptLog {
  checkpoint: string;
  proofs: { wallet_id: string; seq: number; leaf_index: number; inclusion: string[] }[];
}

/** What the auditor's verify reads from the log: the latest checkpoint and the leaves and nodes it compares. */
export interface AuditView {
  checkpoint: { tree_size: number; note: string } | null;
  /** The level-`level` node hashes (hex) of every complete window inside the checkpoint's tree, in order. */
  window_hashes: string[];
  /**
   * The windows asked for, each with its leaves and, per partition, the source rowid of that partition's last
   * leaf before the window (0 for none): where the partition's rows for this window start.
   */
  windows: { index: number; after: number[]; leaves: LeafRow[] }[];
  /** The leaves after the last complete window, up to the checkpoint's size. */
  tail: { after: number[]; leaves: LeafRow[] };
  /** Per partition, the source rowid of its last leaf in the checkpoint (0 for none): its rows after it are in no checkpoint. */
  last: number[];
}

/** The transparency log. */
export class TransparencyLog extends DurableObject<Env> {
  private readonly tree: TreeStore;
  private readonly checkpoints: CheckpointStore;
  private feeding: Promise<FeedResult> | null = null;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.tree = new TreeStore(ctx.storage.sql);
    this.checkpoints = new CheckpointStore(ctx.storage.sql);
    void ctx.blockConcurrencyWhile(async () => {
      migrate(ctx.storage, LOG_SCHEMA);
      // Any call wakes the feeding (a checkpoint read, a receipt, the Cron), so a new deployment does not wait for
      // the first Cron run before its first checkpoint; from then on the alarm re-arms itself.
      if ((await ctx.storage.getAlarm()) === null) await ctx.storage.setAlarm(Date.now() + configOf(env).log_checkpoint_interval_ms);
    });
  }

  /** Arms the feeding alarm if it is not armed (the Cron calls this every minute). */
  async ensureAlarm(): Promise<void> {
    if ((await this.ctx.storage.getAlarm()) === null) await this.ctx.storage.setAlarm(Date.now() + this.interval());
  }

  private interval(): number {
    return configOf(this.env).log_checkpoint_interval_ms;
  }

  /** Every interval: feed, then come back (at once if D1 still holds more than one wake-up could append). */
  override async alarm(): Promise<void> {
    let behind = false;
    try {
      behind = (await this.feed()).behind;
    } catch (error) {
      log("error", "transparency log feed failed", { error: errorText(error) });
    }
    await this.ctx.storage.setAlarm(Date.now() + (behind ? 0 : this.interval()));
  }

  /**
   * One feeding pass: appends the partitions' new entries (see the file comment), batch by batch, then signs a
   * checkpoint if the tree grew (or none exists yet). Passes never overlap: a second caller waits for the running one.
   */
  feed(): Promise<FeedResult> {
    this.feeding ??= this.feedOnce().finally(() => {
      this.feeding = null;
    });
    return this.feeding;
  }

  private async feedOnce(): Promise<FeedResult> {
    const config = configOf(this.env);
    const started = Date.now();
    const partitions = partitionDbs(this.env).length;
    let appended = 0;
    let behind = false;
    let stalled: number[];
    for (;;) {
      const read = await readNewEntries(this.env, this.tree.cursors(partitions), config.log_append_batch_max, FEED_READ_TIMEOUT_MS);
      stalled = read.failed.map((f) => f.partition);
      for (const f of read.failed) log("warn", "transparency log: a partition's read failed; its rows wait", f);
      appended += this.appendLeaves(
        read.entries.map((e) => ({
          wallet_id: e.wallet_id,
          seq: e.seq,
          hash: e.hash,
          source_partition: e.partition,
          source_rowid: e.rowid,
        })),
      );
      if (!read.full) break;
      if (Date.now() - started > FEED_BUDGET_MS) {
        behind = true;
        break;
      }
    }
    const signed = await this.signIfGrown();
    return { appended, tree_size: this.tree.size(), signed, behind, stalled };
  }

  /** Appends entries in one transaction; returns how many were new. Public to the bench and tests through runInDurableObject. */
  appendLeaves(entries: readonly LeafInput[]): number {
    if (entries.length === 0) return 0;
    try {
      return this.ctx.storage.transactionSync(() => this.tree.append(entries));
    } catch (error) {
      this.tree.reset();
      throw error;
    }
  }

  /** Signs a checkpoint of the current tree when it has grown past the latest one (or none exists). */
  async signIfGrown(): Promise<boolean> {
    const size = this.tree.size();
    const latest = this.checkpoints.latest();
    if (latest !== null && latest.tree_size >= size) return false;
    const origin = configOf(this.env).log_origin;
    await this.checkpoints.sign(origin, size, this.tree.root(size), await logSigner(this.env, origin), new Date());
    return true;
  }

  /** The latest checkpoint, signing the first (of the empty tree) on demand, so there is always one to serve. */
  private async latestRow(): Promise<CheckpointRow> {
    const latest = this.checkpoints.latest();
    if (latest !== null) return latest;
    await this.signIfGrown();
    const signed = this.checkpoints.latest();
    if (signed === null) throw new Error("log: no checkpoint after signing");
    return signed;
  }

  private latestSize(): number {
    return this.checkpoints.latest()?.tree_size ?? 0;
  }

  /** The latest checkpoint's text with the configured witnesses' cosignatures, or (witnessed) the newest all of them cosigned. */
  async checkpoint(witnessed: boolean): Promise<string | null> {
    const witnesses = configOf(this.env).log_witness_keys;
    const row = witnessed ? (await this.latestRow(), this.checkpoints.witnessed(witnesses)) : await this.latestRow();
    return row === null ? null : this.checkpoints.withCosignatures(row, witnesses);
  }

  /** Checkpoints of more than `after` leaves, oldest first; `more` when the page was full. */
  async checkpointsAfter(after: number, limit: number): Promise<{ items: string[]; last: number | null; more: boolean }> {
    await this.latestRow();
    const witnesses = configOf(this.env).log_witness_keys;
    const rows = this.checkpoints.after(after, limit + 1);
    const page = rows.slice(0, limit);
    return {
      items: page.map((r) => this.checkpoints.withCosignatures(r, witnesses)),
      last: page[page.length - 1]?.tree_size ?? null,
      more: rows.length > limit,
    };
  }

  /** The inclusion proof of entry (wallet_id, seq) in the tree of `tree_size` leaves (default: the latest checkpoint's). */
  async proof(walletId: string, seq: number, treeSize: number | null): Promise<ProofResult> {
    const latest = (await this.latestRow()).tree_size;
    const size = treeSize ?? latest;
    if (size > latest) return { code: "tree_size_too_large", latest };
    const leaf = this.tree.leafOf(walletId, seq);
    if (leaf === null || leaf.leaf_index >= size) return { code: "not_found" };
    return {
      code: "ok",
      leaf_index: leaf.leaf_index,
      tree_size: size,
      leaf: new TextDecoder().decode(logLeaf(leaf.wallet_id, leaf.seq, leaf.entry_hash)),
      inclusion: this.tree.inclusion(leaf.leaf_index, size).map(hashToHex),
    };
  }

  /** The consistency proof between two tree sizes, both at most the latest checkpoint's. */
  async consistency(from: number, to: number): Promise<ConsistencyResult> {
    const latest = (await this.latestRow()).tree_size;
    if (from > to || to > latest) return { code: "bad_range", latest };
    return { code: "ok", from, to, proof: this.tree.consistency(from, to).map(hashToHex) };
  }

  /** Stores the witness cosignatures a posted checkpoint carries (see CheckpointStore.accept). */
  async cosign(text: string): Promise<CosignResult> {
    const config = configOf(this.env);
    return this.checkpoints.accept(text, config.log_origin, config.log_witness_keys, new Date());
  }

  /** For a receipt: the latest checkpoint and the inclusion proofs of `entries`, or null while it does not cover them all. */
  async receiptProofs(entries: readonly { wallet_id: string; seq: number }[]): Promise<ReceiptLog | null> {
    const latest = this.checkpoints.latest();
    if (latest === null || entries.length === 0) return null;
    const proofs: ReceiptLog["proofs"] = [];
    for (const e of entries) {
      const leaf = this.tree.leafOf(e.wallet_id, e.seq);
      if (leaf === null || leaf.leaf_index >= latest.tree_size) return null;
      const inclusion = this.tree.inclusion(leaf.leaf_index, latest.tree_size).map(hashToHex);
      proofs.push({ wallet_id: e.wallet_id, seq: e.seq, leaf_index: leaf.leaf_index, inclusion });
    }
    return { checkpoint: this.checkpoints.withCosignatures(latest, configOf(this.env).log_witness_keys), proofs };
  }

  /**
   * What the auditor compares with D1: the latest checkpoint, every level-`level` node inside it, the leaves of
   * `budget` windows (each 2^level leaves; the newest and a rotation by `turn`, see pickWindows) and of the tail
   * after the last complete window.
   */
  async auditView(level: number, budget: number, turn: number): Promise<AuditView> {
    const latest = this.checkpoints.latest();
    const partitions = partitionDbs(this.env).length;
    if (latest === null) return { checkpoint: null, window_hashes: [], windows: [], tail: { after: [], leaves: [] }, last: [] };
    const width = 2 ** level;
    const complete = Math.floor(latest.tree_size / width);
    const windowIndexes = pickWindows(complete, budget, turn);
    const window_hashes: string[] = [];
    for (let i = 0; i < complete; i++) window_hashes.push(hashToHex(this.tree.subtreeHash([i * width, (i + 1) * width])));
    const after = (start: number): number[] => this.tree.sourcesBefore(start, partitions);
    const windows = windowIndexes
      .filter((i) => Number.isSafeInteger(i) && i >= 0 && i < complete)
      .map((index) => ({ index, after: after(index * width), leaves: this.tree.leavesFrom(index * width, width) }));
    const tailStart = complete * width;
    const tail = { after: after(tailStart), leaves: this.tree.leavesFrom(tailStart, latest.tree_size - tailStart) };
    return { checkpoint: { tree_size: latest.tree_size, note: latest.note }, window_hashes, windows, tail, last: after(latest.tree_size) };
  }
}
