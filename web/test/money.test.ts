/**
 * Tests of the client's pure money and recipient logic. Node 24 strips the TypeScript types itself, so these
 * import the real sources rather than a copy: `node --test web/test/` (see index.js) or
 * `node --test 'web/test/*.test.ts'`. `describe` and `test` return promises that the runner awaits itself, so
 * they are marked `void` for the repository's floating-promise lint rule.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { formatMinor, formatSignedMinor, fractionDigitsFor, minorToDecimalString, parseMajorToMinor } from "../src/money.ts";
import { parseRecipient } from "../src/recipient.ts";

function minorOf(text: string, digits = 2): number {
  const result = parseMajorToMinor(text, digits);
  assert.ok(result.ok, `expected "${text}" to parse`);
  return result.minor;
}

function refusal(text: string, digits = 2): string {
  const result = parseMajorToMinor(text, digits);
  assert.equal(result.ok, false, `expected "${text}" to be refused`);
  return result.ok ? "" : result.reason;
}

void describe("parseMajorToMinor", () => {
  void test("accepts plain amounts exactly", () => {
    assert.equal(minorOf("12.50"), 1250);
    assert.equal(minorOf("12.5"), 1250);
    assert.equal(minorOf("12"), 1200);
    assert.equal(minorOf("12."), 1200);
    assert.equal(minorOf(".5"), 50);
    assert.equal(minorOf("0.01"), 1);
    assert.equal(minorOf("  7.00  "), 700);
    assert.equal(minorOf("007.10"), 710);
  });

  void test("never goes through a float", () => {
    // 0.29 * 100 and 1.005 * 100 are the classic float traps; 4.35 * 100 is 434.99999999999994.
    assert.equal(minorOf("0.29"), 29);
    assert.equal(minorOf("4.35"), 435);
    assert.equal(minorOf("1.1"), 110);
    assert.equal(minorOf("1.005", 3), 1005);
  });

  void test("accepts fifteen significant digits and refuses sixteen", () => {
    assert.equal(minorOf("9999999999999.99"), 999_999_999_999_999);
    assert.equal(minorOf("999999999999999", 0), 999_999_999_999_999);
    assert.match(refusal("99999999999999.99"), /too large/);
    assert.match(refusal("1234567890123456", 0), /too large/);
    assert.match(refusal("1".repeat(60)), /too large/);
  });

  void test("refuses zero and negatives", () => {
    assert.match(refusal("0"), /greater than zero/);
    assert.match(refusal("0.00"), /greater than zero/);
    assert.match(refusal("-1"), /greater than zero/);
    assert.match(refusal("-0.50"), /greater than zero/);
  });

  void test("refuses too many decimals for the currency", () => {
    assert.match(refusal("1.234"), /at most 2 decimal places/);
    assert.match(refusal("1.5", 0), /no decimal places/);
    assert.equal(minorOf("1500", 0), 1500);
    assert.match(refusal("1.2345", 3), /at most 3 decimal places/);
  });

  void test("refuses anything that is not plain digits", () => {
    for (const text of ["abc", "1e3", "1E3", "0x10", "+5", "1.2.3", ".", "", "   ", "12 50", "$5", "Infinity", "NaN", "١٢"]) {
      refusal(text);
    }
    assert.match(refusal("1,000.00"), /no thousands separators/);
    assert.match(refusal(""), /Enter an amount/);
  });

  void test("refuses a currency it cannot handle", () => {
    refusal("1", -1);
    refusal("1", 2.5);
  });
});

void describe("formatting", () => {
  void test("knows each currency's minor digits", () => {
    assert.equal(fractionDigitsFor("USD"), 2);
    assert.equal(fractionDigitsFor("JPY"), 0);
    assert.equal(fractionDigitsFor("KWD"), 3);
  });

  void test("writes minor units as exact decimals", () => {
    assert.equal(minorToDecimalString(1250, 2), "12.50");
    assert.equal(minorToDecimalString(5, 2), "0.05");
    assert.equal(minorToDecimalString(-5, 2), "-0.05");
    assert.equal(minorToDecimalString(0, 2), "0.00");
    assert.equal(minorToDecimalString(1500, 0), "1500");
    assert.equal(minorToDecimalString(Number.MAX_SAFE_INTEGER, 2), "90071992547409.91");
    assert.throws(() => minorToDecimalString(1.5, 2));
  });

  void test("formats with Intl in the wallet's currency", () => {
    assert.equal(formatMinor(1250, "USD", "en-US"), "$12.50");
    assert.equal(formatMinor(0, "USD", "en-US"), "$0.00");
    assert.equal(formatMinor(1500, "JPY", "en-US"), "¥1,500");
    // Intl puts a no-break space between a currency code and the number, so match any space.
    assert.match(formatMinor(1234, "KWD", "en-US"), /^KWD\s1\.234$/);
    assert.equal(formatMinor(-250, "USD", "en-US"), "-$2.50");
    // Large values keep their last cent, which a division by 100 in floating point would lose.
    assert.equal(formatMinor(999_999_999_999_999, "USD", "en-US"), "$9,999,999,999,999.99");
    assert.equal(formatMinor(Number.MAX_SAFE_INTEGER, "USD", "en-US"), "$90,071,992,547,409.91");
  });

  void test("signs history amounts and survives an unknown currency", () => {
    assert.equal(formatSignedMinor(500, "USD", "en-US"), "+$5.00");
    assert.equal(formatSignedMinor(-500, "USD", "en-US"), "-$5.00");
    assert.equal(formatMinor(1250, "not a currency", "en-US"), "12.50 not a currency");
  });
});

void describe("parseRecipient", () => {
  void test("reads handles, phones and wallet ids", () => {
    assert.deepEqual(parseRecipient("bob"), { ok: true, to: { handle: "bob" }, label: "@bob" });
    const upper = parseRecipient(" @Bob_1 ");
    assert.ok(upper.ok);
    assert.deepEqual(upper.to, { handle: "bob_1" });
    const phone = parseRecipient("+1 (415) 555-0123");
    assert.ok(phone.ok);
    assert.deepEqual(phone.to, { phone: "+14155550123" });
    const wallet = parseRecipient("wal_0123456789abcdefghjkmnpqrs");
    assert.ok(wallet.ok);
    assert.deepEqual(wallet.to, { wallet_id: "wal_0123456789abcdefghjkmnpqrs" });
    // A wallet in audit partition 1 or 12 (src/db/partitions.ts) is as good a recipient as one in partition 0.
    for (const id of ["wal_p1_0123456789abcdefghjkmnpqrs", "wal_p12_0123456789abcdefghjkmnpqrs"]) {
      assert.deepEqual(parseRecipient(id), { ok: true, to: { wallet_id: id }, label: id });
    }
  });

  void test("refuses what cannot be a recipient", () => {
    for (const text of [
      "",
      "  ",
      "ab",
      "+123",
      "+0123456789",
      "bob smith",
      "a".repeat(33),
      "wal_",
      "wal_UPPER",
      "wal_p0_0123456789abcdefghjkmnpqrs",
      "wal_p1_",
      "wal_0123456789abcdefghjkmnpqr",
    ]) {
      assert.equal(parseRecipient(text).ok, false, text);
    }
  });
});
