/** The public key that verifies receipts, with its id, for anyone (no authentication). */
import { OpenAPIHono, createRoute, z } from "@hono/zod-openapi";
import { receiptPublicKey } from "../../audit/receipts";
import type { AppEnv } from "../context";
import { withErrors } from "../declared-errors";
import { jsonContent } from "../schemas";

const publicKeyRoute = createRoute(
  withErrors(
    {
      method: "get",
      path: "/receipts/public-key",
      summary: "The Ed25519 public key (raw, base64url) that verifies receipts",
      responses: { 200: jsonContent(z.object({ key_id: z.string(), alg: z.literal("Ed25519"), public_key: z.string() }), "The key") },
    },
    [],
  ),
);

/** The receipts sub-app, mounted under /api/v1. */
export const receiptRoutes = new OpenAPIHono<AppEnv>();
receiptRoutes.openapi(publicKeyRoute, async (c) => c.json(await receiptPublicKey(c.env), 200));
