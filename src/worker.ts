/**
 * The Worker entry point: the HTTP API for /api/*, the static Preact client for everything else (served by
 * the assets binding with an SPA fallback), the Cron Trigger of the continuous self-audit, and the two
 * Durable Object classes.
 */
import { WorkerEntrypoint } from "cloudflare:workers";
import { createApp } from "./api/app";
import { selfAudit } from "./audit/self-audit";
import { configOf } from "./config";
import { recoverySweep } from "./cron/recovery-sweep";
import { logCron } from "./log/cron";
import { log } from "./observability/log";
import { consumeDeliveries, type DeliveryMessage } from "./webhooks/consumer";

export { WalletObject } from "./wallet-object";
export { TransferCoordinator } from "./transfer-coordinator";
export { RateLimiter } from "./rate-limiter";
export { TransparencyLog } from "./log-object";

const app = createApp();

/**
 * The whole site from one entry point, routed as Cloudflare routes the deployed Worker (wrangler.toml's
 * `run_worker_first = ["/api/*"]`): the API for /api/*, the static client (with its SPA fallback) for the
 * rest. `npm start` serves this entry point on PORT, so a local request reaches the Worker directly instead of
 * passing through the local asset router's two extra isolates first (docs/performance.md).
 */
export class SiteEntrypoint extends WorkerEntrypoint<Env> {
  override fetch(request: Request): Response | Promise<Response> {
    if (new URL(request.url).pathname.startsWith("/api/")) return app.fetch(request, this.env, this.ctx);
    return this.env.ASSETS.fetch(request);
  }
}

export default {
  fetch(request, env, ctx) {
    return app.fetch(request, env, ctx);
  },
  /**
   * The Cron Trigger, every minute: one run of the continuous self-audit and one step of the recovery sweep,
   * side by side, each spread over the same window so neither takes the money path's thread in a burst.
   */
  async scheduled(controller, env, _ctx) {
    const config = configOf(env);
    const limits = {
      wallets_per_run: config.self_audit_wallets_per_run,
      entries_per_wallet: config.self_audit_entries_per_wallet,
      spread_ms: config.self_audit_spread_ms,
    };
    const [audit, sweep] = await Promise.all([
      selfAudit(env, limits, controller.scheduledTime),
      recoverySweep(env, { per_run: config.recovery_sweep_per_run, spread_ms: config.self_audit_spread_ms }, controller.scheduledTime),
    ]);
    log(audit.findings > 0 ? "error" : "info", "self-audit run", { ...audit });
    log(sweep.scheduled > 0 || sweep.failed > 0 ? "warn" : "info", "recovery sweep", { ...sweep });
    // The transparency log feeds itself on its alarm; this arms it if it is not, and audits a rotation of leaves.
    await logCron(env, controller.scheduledTime);
  },
  /** The webhook queue's consumer: one delivery attempt per message, away from the money path (src/webhooks). */
  async queue(batch, env) {
    await consumeDeliveries(batch as MessageBatch<DeliveryMessage>, env);
  },
} satisfies ExportedHandler<Env>;
