/**
 * The generic readers every area of the configuration shares (src/config.ts and its siblings here): each takes
 * the raw `[vars]` strings and throws an Error naming the variable when its value is out of range.
 */

/** Some of the Worker's `[vars]`, by name; every value arrives as a string. */
export type VarsOf<Name extends string> = { readonly [K in Name]: string };

/** One day in milliseconds, the unit most retention and back-off ranges are written in. */
export const DAY_MS = 86_400_000;

/** A whole number in min..max, written in base 10 without sign or fraction. */
export function integer<Name extends string>(vars: VarsOf<Name>, name: Name, min: number, max: number): number {
  const raw = vars[name];
  const value = Number(raw);
  if (typeof raw !== "string" || !/^\d+$/.test(raw.trim()) || !Number.isSafeInteger(value)) {
    throw new Error(`config: ${name} must be a whole number, got ${JSON.stringify(raw)}`);
  }
  if (value < min || value > max) {
    throw new Error(`config: ${name} must be between ${min} and ${max}, got ${value}`);
  }
  return value;
}

/** "on" or "off", nothing else: a typo must not silently turn a check off (or on). */
export function onOff<Name extends string>(vars: VarsOf<Name>, name: Name): boolean {
  const raw = vars[name];
  if (raw !== "on" && raw !== "off") throw new Error(`config: ${name} must be "on" or "off", got ${JSON.stringify(raw)}`);
  return raw === "on";
}
