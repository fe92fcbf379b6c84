/**
 * What the browser's log check (logverify.ts) reads and keeps: the service's answers through `LogFetch`, and its
 * memory of pinned keys and the last accepted checkpoint through `LogMemory`. `get` and `jsonOf` turn a missing
 * answer into Unavailable and one that is not JSON into an alarm, the same way for the check and its key
 * pinning (pinning.ts); both import them from here, so neither imports the other's helpers.
 */
import { Alarm, Unavailable } from "./alarm";

/** What the check reads from and keeps in the browser (localStorage in the app). */
export interface LogMemory {
  pinnedKey(): string | null;
  pinKey(vkey: string): void;
  /** The witness verifier keys pinned on first use (sorted), or null when none were pinned yet. */
  pinnedWitnesses(): string[] | null;
  pinWitnesses(vkeys: readonly string[]): void;
  /** The last checkpoint accepted (note text), or null on first use. */
  lastCheckpoint(): string | null;
  /** Records a newly accepted checkpoint; never called with a smaller tree than the one kept. */
  acceptCheckpoint(text: string): void;
}

/** One GET under /api/v1, answered as status and text (the log routes answer text/plain as well as JSON). */
export type LogFetch = (path: string) => Promise<{ status: number; text: string }>;

/** A 200 answer's text, or Unavailable. */
export async function get(io: LogFetch, path: string): Promise<string> {
  let answer;
  try {
    answer = await io(path);
  } catch (error) {
    throw new Unavailable(`GET ${path}: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (answer.status !== 200) throw new Unavailable(`GET ${path} answered ${answer.status}`);
  return answer.text;
}

/** The JSON in a 200 answer's text; text that is not JSON is a malformed answer, so an alarm. */
export function jsonOf(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new Alarm("malformed", `The service answered ${what} with something that is not JSON.`);
  }
}
