/**
 * Structured logs: one JSON object per line, with a level, a message and fields. Callers pass ids and codes,
 * never tokens, passwords or phone numbers; `log` also drops any field whose name suggests a secret, so a
 * mistake in a caller cannot leak one into the log stream.
 */

type Level = "info" | "warn" | "error";

const SECRET_FIELD = /token|password|secret|authorization|cookie|phone|key$/i;

/** Writes one log line. Fields named like secrets are replaced by "[redacted]". */
export function log(level: Level, message: string, fields: Record<string, unknown> = {}): void {
  const safe: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(fields)) safe[name] = SECRET_FIELD.test(name) ? "[redacted]" : value;
  const line = JSON.stringify({ level, message, ...safe });
  if (level === "error") console.error(line);
  else if (level === "warn") console.warn(line);
  else console.log(line);
}

/** An error as one line for a log field: its name and message (never its stack). */
export function errorText(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
