/**
 * Minor units written as exact decimal strings in major units (`-1250` USD is `-12.50`, `1250` JPY is
 * `1250`, `1250` BHD is `1.250`), by moving the decimal point in the integer's digits: no float is ever
 * involved, so no amount is ever rounded. The exponent comes from domain/currency.ts (ISO 4217).
 */

/** `amount_minor` as a decimal string with `exponent` digits after the point. */
export function formatMinor(amount_minor: number, exponent: number): string {
  if (!Number.isSafeInteger(amount_minor)) throw new Error(`invariant: ${amount_minor} is not a safe integer amount`);
  if (!Number.isInteger(exponent) || exponent < 0 || exponent > 18) throw new Error(`invariant: bad currency exponent ${exponent}`);
  const sign = amount_minor < 0 ? "-" : "";
  // A safe integer's String() is its exact decimal digits (no exponent notation below 1e21).
  const digits = String(Math.abs(amount_minor));
  if (exponent === 0) return `${sign}${digits}`;
  const padded = digits.padStart(exponent + 1, "0");
  return `${sign}${padded.slice(0, -exponent)}.${padded.slice(-exponent)}`;
}
