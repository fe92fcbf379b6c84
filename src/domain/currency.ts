/**
 * ISO 4217 currencies: which codes a wallet may hold and how many decimal places each one's minor unit has.
 * The list is ISO's "List One" as the `currency-codes` package keeps it (data and publication date from the
 * ISO 4217 maintenance agency), so it is updated with a dependency bump, not by hand.
 */
import { data, publishDate } from "currency-codes";

/**
 * Codes on List One that are not money a person holds: precious metals, bond-market units, the SDR, the SUCRE,
 * the ADB unit, the testing code and "no currency". ISO gives them no minor unit ("N.A."), which the package
 * writes as 0, so they are named here.
 */
const NOT_HELD: ReadonlySet<string> = new Set(["XAG", "XAU", "XBA", "XBB", "XBC", "XBD", "XDR", "XPD", "XPT", "XSU", "XTS", "XUA", "XXX"]);

/** Each code a wallet may hold, with its minor unit's decimal places (USD 2, JPY 0, BHD 3, CLF 4). */
const EXPONENTS: ReadonlyMap<string, number> = new Map(data.filter((c) => !NOT_HELD.has(c.code)).map((c) => [c.code, c.digits]));

/** The date of the ISO 4217 list this build knows. */
export const CURRENCY_LIST_DATE: string = publishDate;

/** Whether `code` is an active ISO 4217 currency a wallet may hold (`QQQ`, `XTS` and `usd` are not). */
export function isCurrencyCode(code: string): boolean {
  return EXPONENTS.has(code);
}

/** The number of decimal places of `code`'s minor unit; throws for a code that is not a held currency. */
export function currencyExponent(code: string): number {
  const exponent = EXPONENTS.get(code);
  if (exponent === undefined) throw new Error(`invariant: ${code} is not an ISO 4217 currency`);
  return exponent;
}

/** Every code a wallet may hold, sorted (for the web client's wallet form and the OpenAPI document). */
export function currencyCodes(): string[] {
  return [...EXPONENTS.keys()].sort();
}
