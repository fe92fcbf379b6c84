/**
 * The Worker entry point: the HTTP API for /api/*, the static Preact client for everything else (served by
 * the assets binding with an SPA fallback), and the two Durable Object classes.
 */
import { createApp } from "./api/app";

export { WalletObject } from "./wallet-object";
export { TransferCoordinator } from "./transfer-coordinator";

const app = createApp();

export default {
  fetch(request, env, ctx) {
    return app.fetch(request, env, ctx);
  },
} satisfies ExportedHandler<Env>;
