/**
 * The HTTP API: one Hono app with a sub-app per resource, mounted under /api/v1, one error handler that turns
 * every failure into the contract's error body, and the OpenAPI document generated from the route schemas.
 */
import type { JsonTextProblem } from "../domain/json-numbers";
import { OpenAPIHono } from "@hono/zod-openapi";
import { HTTPException } from "hono/http-exception";
import type { Context } from "hono";
import { cors } from "hono/cors";
import { secureHeaders } from "hono/secure-headers";
import { configOf } from "../config";
import type { AppEnv } from "./context";
import { DOCS_CSS, DOCS_JS, docsPage } from "./docs";
import { checkDeclaredErrors } from "./declared-errors";
import { ApiError, errorResponse, type ErrorDetail } from "./errors";
import { requestId, sessionFirst } from "./middleware";
import { ErrorBody } from "./schemas";
import { adminRoutes } from "./routes/admin";
import { auditRoutes } from "./routes/audit";
import { authRoutes } from "./routes/auth";
import { healthRoutes } from "./routes/health";
import { liveRoutes } from "./routes/live";
import { receiptRoutes } from "./routes/receipts";
import { statementRoutes } from "./routes/statements";
import { transferRoutes } from "./routes/transfers";
import { walletRoutes } from "./routes/wallets";
import { newWalletRoutes } from "./routes/new-wallet";
import { paymentRequestRoutes } from "./routes/payment-requests";
import { contactRoutes } from "./routes/contacts";
import { transferListRoutes } from "./routes/transfer-list";
import { apiKeyRoutes } from "./routes/api-keys";
import { logRoutes } from "./routes/log";
import { eventRoutes } from "./routes/events";
import { webhookRoutes } from "./routes/webhooks";
import { errorText, log } from "../observability/log";

interface Issue {
  code?: string;
  path: readonly PropertyKey[];
  message: string;
  keys?: readonly string[];
}

/** zod issues as the contract's `details`: one per field, naming each unknown field on its own. */
function details(issues: readonly Issue[]): ErrorDetail[] {
  return issues.flatMap((issue) => {
    const prefix = issue.path.map(String).join(".");
    if (issue.code === "unrecognized_keys" && issue.keys !== undefined) {
      return issue.keys.map((key) => ({ field: prefix === "" ? key : `${prefix}.${key}`, issue: "unknown field" }));
    }
    return [{ field: prefix === "" ? "body" : prefix, issue: issue.message }];
  });
}

/** Builds the API app. */
export function createApp(): OpenAPIHono<AppEnv> {
  const api = new OpenAPIHono<AppEnv>({
    defaultHook: async (result, c) => {
      // A JSON body that passed its schema may still have written a whole number as a float, which JSON.parse
      // hid (`1.0000000000000001` reads as 1): money is never a float on the wire, so that is refused too; so is
      // a member given twice, which JSON.parse resolves silently and another parser may resolve the other way.
      const problem = result.target === "json" ? (c.get("json_text_problem") as JsonTextProblem | undefined) : undefined;
      if (result.success && problem === undefined) return undefined;
      await sessionFirst(c);
      if (result.success) return errorResponse(c, "validation_error", { details: [problem ?? { field: "body", issue: "invalid" }] });
      return errorResponse(c, "validation_error", { details: details(result.error.issues) });
    },
  });
  api.route("/", healthRoutes);
  api.route("/", authRoutes);
  api.route("/", walletRoutes);
  api.route("/", newWalletRoutes);
  api.route("/", paymentRequestRoutes);
  api.route("/", contactRoutes);
  api.route("/", liveRoutes);
  api.route("/", transferListRoutes);
  api.route("/", transferRoutes);
  api.route("/", auditRoutes);
  api.route("/", receiptRoutes);
  api.route("/", statementRoutes);
  api.route("/", adminRoutes);
  api.route("/", apiKeyRoutes);
  api.route("/", logRoutes);
  api.route("/", eventRoutes);
  api.route("/", webhookRoutes);
  // Each route documents its own codes; the body with every code stays a named schema for the web client.
  api.openAPIRegistry.register("Error", ErrorBody);
  api.doc31("/openapi.json", {
    openapi: "3.1.0",
    info: {
      title: "Edge wallet API",
      version: "1.0.0",
      description: "Wallets, idempotent two-phase transfers and a verifiable audit log.",
    },
    servers: [{ url: "/api/v1" }],
  });

  const app = new OpenAPIHono<AppEnv>();
  app.use("*", requestId);
  app.use("*", checkDeclaredErrors);
  app.use("/api/v1/*", secureHeaders({ contentSecurityPolicy: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] } }));
  app.use(
    "/api/docs*",
    secureHeaders({
      contentSecurityPolicy: {
        defaultSrc: ["'none'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        connectSrc: ["'self'"],
        frameAncestors: ["'none'"],
      },
    }),
  );
  // CORS only for configured origins, and only for bearer tokens (no credentials): the cookie stays same-site.
  // DELETE is there for revoking API keys and removing webhook endpoints.
  app.use(
    "/api/*",
    cors({
      origin: (origin: string, c: Context<AppEnv>) => (configOf(c.env).allowed_origins.includes(origin) ? origin : null),
      allowMethods: ["GET", "POST", "DELETE"],
      allowHeaders: ["authorization", "content-type", "idempotency-key"],
      exposeHeaders: ["x-request-id", "idempotent-replayed", "retry-after"],
      maxAge: 600,
    }),
  );
  app.route("/api/v1", api);
  app.get("/api/docs", (c) => c.html(docsPage()));
  app.get("/api/docs.js", (c) => c.body(DOCS_JS, 200, { "content-type": "text/javascript; charset=utf-8" }));
  app.get("/api/docs.css", (c) => c.body(DOCS_CSS, 200, { "content-type": "text/css; charset=utf-8" }));
  app.notFound((c) => errorResponse(c, "not_found"));
  app.onError(async (error, c) => {
    if (error instanceof ApiError) return apiErrorResponse(c, error);
    if (error instanceof HTTPException && [400, 413, 415].includes(error.status)) return bodyErrorResponse(c, error.status);
    log("error", "unhandled error", { request_id: c.get("request_id"), error: errorText(error) });
    return errorResponse(c, "internal");
  });
  return app;
}

function apiErrorResponse(c: Context<AppEnv>, error: ApiError): Response {
  return errorResponse(c, error.code, {
    ...(error.details ? { details: error.details } : {}),
    ...(error.headers ? { headers: error.headers } : {}),
  });
}

/**
 * A body the parser refused (malformed JSON, too large, not JSON). The request's session, if it presented one
 * the route has not checked yet, is decided first: a revoked or forged token gets 401, not an answer about a
 * body the service would never act on.
 */
async function bodyErrorResponse(c: Context<AppEnv>, status: number): Promise<Response> {
  try {
    await sessionFirst(c);
  } catch (error) {
    if (error instanceof ApiError) return apiErrorResponse(c, error);
    log("error", "session check failed", { request_id: c.get("request_id"), error: errorText(error) });
    return errorResponse(c, "internal");
  }
  if (status === 413) return errorResponse(c, "payload_too_large");
  const field = status === 415 ? "Content-Type" : "body";
  const issue = status === 415 ? "must be application/json" : "malformed JSON";
  return errorResponse(c, "validation_error", { details: [{ field, issue }] });
}
