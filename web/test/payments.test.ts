/**
 * The pure parts of the payment features (issue 14): how request lists merge, what is left to refund, and the
 * words each new contract code gets in each form. They import the real sources, as the other web tests do.
 */
import assert from "node:assert/strict";
import { registerHooks } from "node:module";
import { describe, test } from "node:test";
import { errorsFor } from "../src/errors.ts";
import { refundableOf } from "../src/refund.ts";
import type { ApiErrorBody, PaymentRequest } from "../src/types.ts";

// The model imports its neighbours without extensions, as Vite wants; this lets Node find them.
registerHooks({
  resolve(specifier, context, nextResolve) {
    const relative = specifier.startsWith("./") || specifier.startsWith("../");
    if (!relative || /\.[cm]?[jt]sx?$/.test(specifier)) return nextResolve(specifier, context);
    return nextResolve(`${specifier}.ts`, context);
  },
});
const { isPaymentRequest, mergeRequest } = await import("../src/models/requests.ts");

function requestOf(id: string, status: PaymentRequest["status"], createdAt: string): PaymentRequest {
  return {
    id,
    status,
    requester: { handle: "alice", display_name: "Alice" },
    requester_wallet_id: "wal_a",
    payer: { handle: "bob", display_name: "Bob" },
    amount: 1250,
    currency: "USD",
    memo: null,
    created_at: createdAt,
    expires_at: "2026-12-07T00:00:00.000Z",
    resolved_at: null,
    transfer_id: null,
    split_id: null,
  };
}

const error = (code: string, details?: ApiErrorBody["details"]): ApiErrorBody => ({
  code,
  message: "",
  request_id: "",
  ...(details !== undefined ? { details } : {}),
});

void describe("mergeRequest", () => {
  const older = requestOf("prq_1", "open", "2026-11-30T10:00:00.000Z");
  const newer = requestOf("prq_2", "open", "2026-11-30T11:00:00.000Z");

  void test("adds new requests newest first and replaces a known one by id", () => {
    const list = mergeRequest(mergeRequest([], older), newer);
    assert.deepEqual(
      list.map((r) => r.id),
      ["prq_2", "prq_1"],
    );
    const paid = { ...older, status: "paid" as const, transfer_id: "trf_1" };
    const merged = mergeRequest(list, paid);
    assert.deepEqual(
      merged.map((r) => [r.id, r.status]),
      [
        ["prq_2", "open"],
        ["prq_1", "paid"],
      ],
    );
  });

  void test("never reopens: an open copy arriving after a resolved one is older and loses", () => {
    const declined = mergeRequest([], { ...older, status: "declined" });
    assert.equal(mergeRequest(declined, older)[0]?.status, "declined");
    // A resolved copy over a resolved one is taken (there is only one resolution, so they agree).
    assert.equal(mergeRequest(declined, { ...older, status: "declined", resolved_at: "x" })[0]?.resolved_at, "x");
  });

  void test("isPaymentRequest accepts the contract's shape and refuses what is not one", () => {
    assert.equal(isPaymentRequest(older), true);
    assert.equal(isPaymentRequest({ id: "prq_1", status: "open" }), false);
    assert.equal(isPaymentRequest(null), false);
    assert.equal(isPaymentRequest({ ...older, amount: "1250" }), false);
  });
});

void describe("refundableOf", () => {
  const base = { status: "succeeded" as const, refund_of: null, amount: 1500, refunded_amount: 0 };
  void test("is the amount less what was refunded", () => {
    assert.equal(refundableOf(base), 1500);
    assert.equal(refundableOf({ ...base, refunded_amount: 500 }), 1000);
    assert.equal(refundableOf({ ...base, refunded_amount: 1500 }), 0);
  });
  void test("is 0 for a refund, a failed transfer, or a sum past the amount", () => {
    assert.equal(refundableOf({ ...base, refund_of: "trf_0" }), 0);
    assert.equal(refundableOf({ ...base, status: "failed" }), 0);
    assert.equal(refundableOf({ ...base, refunded_amount: 2000 }), 0);
  });
});

void describe("errorsFor, contract v1.1 codes", () => {
  void test("each new code is said beside the field it concerns", () => {
    assert.deepEqual(Object.keys(errorsFor(error("refund_exceeds_transfer"), "refund")), ["amount"]);
    assert.deepEqual(Object.keys(errorsFor(error("insufficient_funds"), "refund")), ["amount"]);
    assert.match(errorsFor(error("request_not_open"), "pay").form ?? "", /no longer open/);
    assert.match(errorsFor(error("wallet_exists"), "wallet").currency ?? "", /already have a wallet/);
    assert.match(errorsFor(error("transfer_not_refundable"), "refund").form ?? "", /cannot be refunded/);
  });

  void test("limit_exceeded names the limit from its details", () => {
    const wallets = errorsFor(error("limit_exceeded", [{ field: "WALLETS_MAX_PER_USER", issue: "at most 5" }]), "wallet");
    assert.equal(wallets.currency, "You have reached the limit of wallets (at most 5).");
    const shares = errorsFor(error("limit_exceeded", [{ field: "SPLIT_MAX_SHARES", issue: "at most 20" }]), "split");
    assert.equal(shares.form, "You have reached the limit of people in one split (at most 20).");
  });

  void test("a payer who is not registered, or oneself, is said beside the payer", () => {
    assert.ok(errorsFor(error("not_found"), "request").payer);
    assert.ok(errorsFor(error("same_wallet"), "request").payer);
    assert.ok(errorsFor(error("not_found"), "split").shares);
  });

  void test("validation details of a split's shares land on the shares, whatever their position", () => {
    const errors = errorsFor(error("validation_error", [{ field: "shares.1.amount", issue: "too small" }]), "split");
    assert.deepEqual(Object.keys(errors), ["shares"]);
    assert.deepEqual(Object.keys(errorsFor(error("validation_error", [{ field: "expires_in_s", issue: "x" }]), "request")), ["expiry"]);
  });
});
