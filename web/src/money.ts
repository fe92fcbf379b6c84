/**
 * Money in the client: users type major units ("12.50"), the API speaks integer minor units (1250).
 *
 * Conversion is exact string arithmetic. Floating point cannot represent most decimal fractions, so
 * parseFloat("0.29") * 100 is 28.999999999999996; we never let a typed amount pass through a float.
 * This module has no DOM or Preact imports so that Node's test runner can import it directly.
 */

/** The result of parsing what a user typed into an amount field. */
export type ParseResult = { ok: true; minor: number } | { ok: false; reason: string };

/**
 * The largest number of significant digits we accept. Fifteen digits stay below 2^53, so the digit-by-digit
 * accumulation below is exact, and the server's own balance cap (10^15 minor units) is also 15 digits.
 */
export const MAX_DIGITS = 15;

/** Anything longer than this is refused before it is looked at, whatever it contains. */
const MAX_INPUT_CHARS = 40;

/** Plain digits with an optional decimal point: "12", "12.5", "12.", ".50". Nothing else is money. */
const PLAIN_DECIMAL = /^(\d*)(?:\.(\d*))?$/;

function fail(reason: string): ParseResult {
  return { ok: false, reason };
}

/**
 * Parses a typed major-unit amount into minor units for a currency with `fractionDigits` decimals.
 * Refuses zero, negatives, exponents, separators, too many decimals and more than MAX_DIGITS digits, each
 * with a reason a person can act on.
 */
export function parseMajorToMinor(text: string, fractionDigits: number): ParseResult {
  if (!Number.isInteger(fractionDigits) || fractionDigits < 0 || fractionDigits > 6) {
    return fail("This currency is not supported.");
  }
  const trimmed = text.trim();
  if (trimmed === "") return fail("Enter an amount.");
  if (trimmed.length > MAX_INPUT_CHARS) return fail("That amount is too large.");
  if (trimmed.startsWith("-")) return fail("Enter an amount greater than zero.");
  if (trimmed.includes(",")) return fail("Use a dot for decimals and no thousands separators, like 1234.50.");
  const match = PLAIN_DECIMAL.exec(trimmed);
  const whole = match?.[1] ?? "";
  const fraction = match?.[2] ?? "";
  if (match === null || (whole === "" && fraction === "")) {
    return fail("Type the amount in plain digits, like 12.50.");
  }
  if (fraction.length > fractionDigits) {
    return fail(
      fractionDigits === 0 ? "This currency has no decimal places; enter a whole number." : `Use at most ${fractionDigits} decimal places.`,
    );
  }
  // The minor-unit value as a digit string: whole part, then the fraction padded to the currency's digits.
  const digits = (whole + fraction.padEnd(fractionDigits, "0")).replace(/^0+/, "");
  if (digits === "") return fail("Enter an amount greater than zero.");
  if (digits.length > MAX_DIGITS) return fail("That amount is too large.");
  let minor = 0;
  for (const char of digits) minor = minor * 10 + (char.charCodeAt(0) - 48);
  return { ok: true, minor };
}

/** Formatters are costly to build and pure once built, so one is kept per locale, currency and sign style. */
const formatters = new Map<string, Intl.NumberFormat>();

function formatterFor(currency: string, locale: string | undefined, signed: boolean): Intl.NumberFormat | null {
  const cacheKey = `${locale ?? ""}|${currency}|${signed ? "signed" : "plain"}`;
  const cached = formatters.get(cacheKey);
  if (cached !== undefined) return cached;
  try {
    const created = new Intl.NumberFormat(locale, { style: "currency", currency, signDisplay: signed ? "exceptZero" : "auto" });
    formatters.set(cacheKey, created);
    return created;
  } catch {
    // An unknown currency code makes Intl throw; callers then fall back to a plain rendering.
    return null;
  }
}

/** How many minor digits `currency` has (2 for USD, 0 for JPY, 3 for KWD), as Intl knows it. */
export function fractionDigitsFor(currency: string, locale?: string): number {
  const formatter = formatterFor(currency, locale, false);
  return formatter?.resolvedOptions().maximumFractionDigits ?? 2;
}

/** An integer number of minor units as an exact decimal string: (1250, 2) is "12.50", (-5, 2) is "-0.05". */
export function minorToDecimalString(minor: number, fractionDigits: number): string {
  if (!Number.isSafeInteger(minor)) throw new RangeError(`not a safe integer: ${String(minor)}`);
  const sign = minor < 0 ? "-" : "";
  // String() of a safe integer is always plain digits; exponent notation starts only at 10^21.
  const padded = String(Math.abs(minor)).padStart(fractionDigits + 1, "0");
  if (fractionDigits === 0) return sign + padded;
  const cut = padded.length - fractionDigits;
  return `${sign}${padded.slice(0, cut)}.${padded.slice(cut)}`;
}

function format(minor: number, currency: string, locale: string | undefined, signed: boolean): string {
  const formatter = formatterFor(currency, locale, signed);
  const digits = formatter?.resolvedOptions().maximumFractionDigits ?? 2;
  const decimal = minorToDecimalString(minor, digits);
  if (formatter === null) return `${signed && minor > 0 ? "+" : ""}${decimal} ${currency}`;
  // Intl formats a numeric string exactly (ECMA-402 NumberFormat v3), so no float ever rounds the value.
  return formatter.format(decimal as `${number}`);
}

/** Formats minor units in `currency`, e.g. formatMinor(1250, "USD", "en-US") is "$12.50". */
export function formatMinor(minor: number, currency: string, locale?: string): string {
  return format(minor, currency, locale, false);
}

/** Like formatMinor, with an explicit sign for non-zero amounts ("+$5.00", "-$5.00"), for history rows. */
export function formatSignedMinor(minor: number, currency: string, locale?: string): string {
  return format(minor, currency, locale, true);
}
