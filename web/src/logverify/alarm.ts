/**
 * How the browser's log check (logverify.ts) fails: an alarm of a named kind, or the service being unavailable.
 * Both are thrown from deep inside the check and turned into its result at the top, so every step can stop it
 * with one statement. Kept apart so that the check and its key pinning (pinning.ts) share one Alarm class:
 * the top tells the two failures apart with `instanceof`, which needs the very same class.
 */

/** What went wrong, by kind; each is an alarm. */
export type LogAlarmKind =
  | "key_changed"
  | "witnesses_changed"
  | "bad_signature"
  | "bad_cosignature"
  | "rollback"
  | "fork"
  | "inconsistent"
  | "chain_broken"
  | "not_included"
  | "missing"
  | "malformed";

/** An alarm as stored: what failed, in a sentence, and when it was seen. */
export interface LogAlarm {
  kind: LogAlarmKind;
  message: string;
  at: string;
  /** For key_changed: the key the service now serves, which dismissing the alarm pins. */
  new_vkey?: string;
  /** For witnesses_changed: the witness keys the service now serves (sorted), which dismissing the alarm pins. */
  new_witnesses?: string[];
}

/** Thrown inside the check and turned into its result. */
export class Alarm extends Error {
  readonly kind: LogAlarmKind;
  /** What dismissing the alarm pins: a log key or a witness key set. */
  readonly accept: Pick<LogAlarm, "new_vkey" | "new_witnesses">;
  constructor(kind: LogAlarmKind, message: string, accept: Pick<LogAlarm, "new_vkey" | "new_witnesses"> = {}) {
    super(message);
    this.kind = kind;
    this.accept = accept;
  }
}

/** Thrown when the service does not answer as asked: no verdict either way, so the check reports "unavailable". */
export class Unavailable extends Error {}
