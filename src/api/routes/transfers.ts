/**
 * Transfer routes: send money to a wallet, a handle or a phone number, and read a transfer as its sender or
 * recipient. A phone number is turned into its blind index here at the edge, so neither the coordinator nor
 * the request hash it stores ever holds the number itself.
 */
import { OpenAPIHono, createRoute, z } from "@hono/zod-openapi";
import type { Recipient } from "../../coordinator/rpc";
import { movementOwner } from "../../domain/ids";
import { phoneIndex } from "../../auth/phone";
import type { AppContext, AppEnv } from "../context";
import { ApiError } from "../errors";
import { requestHash } from "../../domain/idempotency";
import { limitBody, readSession, requireAuth, requireIdempotencyKey } from "../middleware";
import { transferJson } from "../render";
import { movementErrors, withErrors } from "../declared-errors";
import { IdempotencyHeaders, RefundBody, Transfer, TransferBody, TransferIdParam, jsonContent } from "../schemas";
import { signReceipt, type ReceiptBody } from "../../audit/receipts";
import { receiptLog } from "../../audit/receipt-log";
import { checkedMemo, ownerCoordinator, withCoordinator } from "../calls";

type TransferInput = z.infer<typeof TransferBody>;

async function recipientOf(c: AppContext, to: TransferInput["to"]): Promise<Recipient> {
  if ("phone" in to) return { phone_index: await phoneIndex(c.env, to.phone) };
  return to;
}

const postTransferRoute = createRoute(
  withErrors(
    {
      method: "post",
      path: "/transfers",
      summary: "Send money to a wallet id, a handle or a phone number",
      middleware: [limitBody, readSession, requireIdempotencyKey] as const,
      request: { headers: IdempotencyHeaders, body: { required: true, content: { "application/json": { schema: TransferBody } } } },
      responses: {
        201: jsonContent(z.object({ transfer: Transfer }), "Succeeded (or replayed, with Idempotent-Replayed: true)"),
      },
    },
    movementErrors("transfer"),
  ),
);

const getTransferRoute = createRoute(
  withErrors(
    {
      method: "get",
      path: "/transfers/{transfer_id}",
      summary: "A transfer, for its sender or recipient",
      middleware: [requireAuth] as const,
      request: { params: TransferIdParam },
      responses: { 200: jsonContent(z.object({ transfer: Transfer }), "The transfer") },
    },
    ["forbidden", "not_found", "unavailable"],
  ),
);

/** The transfers sub-app, mounted under /api/v1. */
export const transferRoutes = new OpenAPIHono<AppEnv>();

const refundRoute = createRoute(
  withErrors(
    {
      method: "post",
      path: "/transfers/{transfer_id}/refunds",
      summary: "Give money back for a transfer you received (partial refunds may repeat, never past its amount)",
      middleware: [limitBody, readSession, requireIdempotencyKey] as const,
      request: {
        params: TransferIdParam,
        headers: IdempotencyHeaders,
        body: { required: true, content: { "application/json": { schema: RefundBody } } },
      },
      responses: {
        201: jsonContent(z.object({ transfer: Transfer }), "Refunded (or replayed, with Idempotent-Replayed: true)"),
      },
    },
    movementErrors("refund"),
  ),
);

transferRoutes.openapi(refundRoute, async (c) => {
  const { transfer_id } = c.req.valid("param");
  const body = c.req.valid("json");
  const memo = await checkedMemo(c, body.memo);
  const request = {
    ...c.get("credential"),
    idempotency_key: c.get("idempotency_key"),
    request_hash: requestHash(`refund ${transfer_id}`, body),
    request_id: c.get("request_id"),
    refund_of: transfer_id,
    amount: body.amount,
    memo,
  };
  return withCoordinator(c, (coordinator) => coordinator.refund(request));
});

transferRoutes.openapi(postTransferRoute, async (c) => {
  const body = c.req.valid("json");
  const memo = await checkedMemo(c, body.memo);
  const to = await recipientOf(c, body.to);
  const request = {
    ...c.get("credential"),
    idempotency_key: c.get("idempotency_key"),
    request_hash: requestHash("transfer", { ...body, to }),
    request_id: c.get("request_id"),
    from_wallet_id: body.from_wallet_id,
    to,
    amount: body.amount,
    memo,
  };
  return withCoordinator(c, (coordinator) => coordinator.transfer(request));
});

transferRoutes.openapi(getTransferRoute, async (c) => {
  const { transfer_id } = c.req.valid("param");
  const caller = c.get("caller");
  const found = await (
    await ownerCoordinator(c, movementOwner(transfer_id))
  ).getMovement(transfer_id, { user_id: caller.user_id, wallet_ids: caller.wallet_ids });
  if (found.code !== "ok") throw new ApiError(found.code);
  return c.json({ transfer: transferJson(found.movement) as z.infer<typeof Transfer> }, 200);
});

const receiptRoute = createRoute(
  withErrors(
    {
      method: "get",
      path: "/transfers/{transfer_id}/receipt",
      summary: "A signed receipt of a succeeded transfer, for its sender or recipient (Ed25519 over canonical JSON)",
      middleware: [requireAuth] as const,
      request: { params: TransferIdParam },
      responses: {
        200: jsonContent(
          z.object({
            receipt: z.record(z.string(), z.unknown()),
            signature: z.object({ alg: z.literal("Ed25519"), key_id: z.string(), value: z.string() }),
            log: z
              .object({
                checkpoint: z.string(),
                proofs: z.array(
                  z.object({ wallet_id: z.string(), seq: z.number().int(), leaf_index: z.number().int(), inclusion: z.array(z.string()) }),
                ),
              })
              .optional()
              .openapi({
                description: "once a signed checkpoint covers both entries: it and their inclusion proofs (outside the signature)",
              }),
          }),
          "The receipt",
        ),
      },
    },
    ["forbidden", "not_found", "unavailable"],
  ),
);

transferRoutes.openapi(receiptRoute, async (c) => {
  const { transfer_id } = c.req.valid("param");
  const caller = c.get("caller");
  const found = await (
    await ownerCoordinator(c, movementOwner(transfer_id))
  ).getMovementEntries(transfer_id, { user_id: caller.user_id, wallet_ids: caller.wallet_ids });
  if (found.code !== "ok") throw new ApiError(found.code);
  const m = found.movement;
  // Only a succeeded transfer has a receipt: a failure moved nothing, and a pending one may still fail.
  if (
    m.kind !== "transfer" ||
    m.status !== "succeeded" ||
    m.from_wallet_id === null ||
    m.to_wallet_id === null ||
    m.currency === null ||
    m.completed_at === null
  ) {
    throw new ApiError("not_found");
  }
  const receipt: ReceiptBody = {
    version: "v1",
    transfer: {
      id: m.id,
      status: "succeeded",
      from_wallet_id: m.from_wallet_id,
      to_wallet_id: m.to_wallet_id,
      amount: m.amount,
      currency: m.currency,
      memo: m.memo,
      created_at: m.created_at,
      completed_at: m.completed_at,
      ...(m.refund_of === null ? {} : { refund_of: m.refund_of }),
      ...(m.payment_request_id === null ? {} : { payment_request_id: m.payment_request_id }),
    },
    entries: found.entries.map((e) => ({
      wallet_id: e.wallet_id,
      seq: e.entry.seq,
      kind: e.entry.kind,
      amount: e.entry.amount,
      hash: e.entry.hash,
    })),
  };
  const [signed, logPart] = await Promise.all([signReceipt(c.env, receipt), receiptLog(c.env, receipt.entries)]);
  return c.json(logPart === null ? signed : { ...signed, log: logPart }, 200);
});
