/**
 * Sustained faults for tests: a disk that is full and a D1 that refuses writes. The one-shot failpoints of the
 * crash sweep crash a movement at one step; these stay on until the test turns them off, so a test can watch
 * what an object does for a while under the fault (does its alarm back off, does its memory stay bounded) and
 * then that it catches up on its own once the fault clears. In production every flag stays false and the
 * wrapper only forwards.
 */
import { sleep } from "../domain/delays";

/** The faults a test can hold on. */
export interface Faults {
  /** Every write to this object's SQLite storage, and every `setAlarm`, fails as SQLite does with a full disk. */
  disk_full: boolean;
  /** Every D1 write this object sends fails, as when D1 is locked or overloaded. */
  d1_down: boolean;
  /** Every D1 write this object sends waits until this is false again, as when D1 is slow. */
  d1_stalled: boolean;
  /** How many D1 writes were refused while `d1_down` held (how hard the object pushed against the fault). */
  d1_writes_refused: number;
  /** How many storage writes or alarm settings were refused while `disk_full` held. */
  disk_writes_refused: number;
}

/** No faults. */
export const noFaults = (): Faults => ({
  disk_full: false,
  d1_down: false,
  d1_stalled: false,
  d1_writes_refused: 0,
  disk_writes_refused: 0,
});

/** The error SQLite raises when the disk is full (the message workerd passes on). */
export class DiskFullError extends Error {
  constructor() {
    super("SQLITE_FULL: database or disk is full (test fault)");
  }
}

/** The error a refusing D1 raises. */
export class D1DownError extends Error {
  constructor() {
    super("D1_ERROR: database is locked (test fault)");
  }
}

/** Statements that only read: allowed on a full disk, as in SQLite. */
const READ_ONLY = /^\s*SELECT\b/i;

/**
 * `storage` with writes and alarms failing while `faults.disk_full` holds. Reads still work, as they do on a
 * real full disk. The wrapper binds every method to the real object, because workerd's storage methods must
 * be called on their own receiver.
 */
export function faultableStorage(storage: DurableObjectStorage, faults: Faults): DurableObjectStorage {
  const sql = storage.sql;
  const exec = sql.exec.bind(sql);
  const faultySql = new Proxy(sql, {
    get(target, prop) {
      if (prop === "exec") {
        return (query: string, ...bindings: unknown[]) => {
          if (faults.disk_full && !READ_ONLY.test(query)) {
            faults.disk_writes_refused++;
            throw new DiskFullError();
          }
          return exec(query, ...bindings);
        };
      }
      const value: unknown = Reflect.get(target, prop);
      return typeof value === "function" ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
  return new Proxy(storage, {
    get(target, prop) {
      if (prop === "sql") return faultySql;
      if (prop === "setAlarm") {
        return (at: number | Date, options?: DurableObjectSetAlarmOptions) => {
          if (faults.disk_full) {
            faults.disk_writes_refused++;
            return Promise.reject(new DiskFullError());
          }
          return target.setAlarm(at, options);
        };
      }
      const value: unknown = Reflect.get(target, prop);
      return typeof value === "function" ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}

/** Waits while `faults.d1_stalled` holds, then throws as a refusing D1 would while `faults.d1_down` holds. */
export async function checkD1(faults: Faults): Promise<void> {
  while (faults.d1_stalled) await sleep(5);
  if (!faults.d1_down) return;
  faults.d1_writes_refused++;
  throw new D1DownError();
}
