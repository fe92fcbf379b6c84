/**
 * The webhook queue's consumer: one attempt per message, away from the money path (docs/architecture.md,
 * "Webhooks"). A message names a delivery in a user's coordinator; the coordinator hands over the job (the URL,
 * the sealed secret, the event's body) and renews the delivery's lease; the attempt runs here; the result goes
 * back to the coordinator, which schedules the next attempt or ends the delivery. The attempts of a batch run side
 * by side, each bounded by WEBHOOK_TIMEOUT_MS and WEBHOOK_RESPONSE_MAX_BYTES, so a slow endpoint holds one attempt
 * for at most its timeout and never a transfer (transfers never wait for the queue) or another endpoint's attempt.
 *
 * Each attempt is signed afresh (Standard Webhooks: `webhook-id` the event id, a new `webhook-timestamp`), the
 * target is checked again first, its name resolved and every address checked (targets.ts), and redirects are not
 * followed (a 3xx is a failed attempt).
 */
import { Webhook } from "standardwebhooks";
import { openPhonesInJson } from "../auth/phone-text";
import { configOf, type Config } from "../config";
import type { AttemptJob, AttemptResult } from "../coordinator/webhook-store";
import { errorText, log } from "../observability/log";
import { addressesAllowed, checkTargetUrl } from "./targets";
import { resolveHost } from "./dns";
import { openSecret } from "./secrets";

/** A queue message: which delivery of which user's coordinator is due. */
export interface DeliveryMessage {
  user_id: string;
  delivery_id: string;
}

const USER_ID = /^usr_[0-9a-hjkmnp-tv-z]{26}$/;
const DELIVERY_ID = /^whd_[0-9a-hjkmnp-tv-z]{26}$/;

/** What an attempt needs from outside, replaceable in tests. */
export interface AttemptPorts {
  fetch: typeof fetch;
  resolve: (host: string) => Promise<string[]>;
  now: () => Date;
}

/** The queue handler: every message of the batch at once, each acknowledged once its result is recorded. */
export async function consumeDeliveries(batch: MessageBatch<DeliveryMessage>, env: Env): Promise<void> {
  const ports: AttemptPorts = { fetch: (input, init) => fetch(input, init), resolve: (host) => resolveHost(host), now: () => new Date() };
  await Promise.all(
    batch.messages.map(async (message) => {
      try {
        await deliverOne(message.body, env, ports);
        message.ack();
      } catch (error) {
        // The coordinator could not be reached: the queue retries the message (then its dead-letter queue takes
        // it), and in any case the delivery's row is still due, so the coordinator's alarm enqueues it again.
        log("warn", "webhook delivery message failed", { error: errorText(error) });
        message.retry();
      }
    }),
  );
}

/** One delivery attempt for one message. */
export async function deliverOne(msg: DeliveryMessage, env: Env, ports: AttemptPorts): Promise<AttemptResult | null> {
  if (!USER_ID.test(msg.user_id) || !DELIVERY_ID.test(msg.delivery_id)) return null;
  const coordinator = env.COORDINATOR.getByName(msg.user_id);
  const job = await coordinator.beginDeliveryAttempt(msg.delivery_id);
  if (job.code !== "go") return null;
  const secret = await openSecret(env, job.secret.cipher, job.secret.key_id);
  // The event's body keeps a payer's phone sealed at rest (auth/phone-text.ts); the delivery carries it opened.
  const body = await openPhonesInJson(env, job.body);
  const result = secret === null ? { ok: false, status_code: null } : await attempt(job, body, secret, configOf(env), ports);
  const recorded = await coordinator.endDeliveryAttempt(msg.delivery_id, result);
  if (recorded.status === "failed") await env.WEBHOOK_DLQ.send({ ...msg, event_id: job.event_id }).catch(() => undefined);
  return result;
}

/** Checks the target, signs and sends; never throws (every failure is a failed attempt). */
export async function attempt(job: AttemptJob, body: string, secret: string, config: Config, ports: AttemptPorts): Promise<AttemptResult> {
  const target = checkTargetUrl(job.url, config.webhook_allow_local);
  if (!target.ok) return refused(job, target.issue);
  if (!target.literal && !target.loopback) {
    const addresses = await withTimeout(ports.resolve(target.url.hostname), config.webhook_timeout_ms).catch(() => []);
    if (!addressesAllowed(addresses, config.webhook_allow_local)) return refused(job, "the host does not resolve to public addresses only");
  }
  const timestamp = ports.now();
  const headers = {
    "content-type": "application/json",
    "user-agent": "edge-wallet-webhooks/1",
    "webhook-id": job.event_id,
    "webhook-timestamp": String(Math.floor(timestamp.getTime() / 1_000)),
    "webhook-signature": new Webhook(secret).sign(job.event_id, timestamp, body),
  };
  try {
    const response = await ports.fetch(target.url.toString(), {
      method: "POST",
      headers,
      body,
      redirect: "manual",
      signal: AbortSignal.timeout(config.webhook_timeout_ms),
    });
    await readAtMost(response, config.webhook_response_max_bytes);
    return { ok: response.status >= 200 && response.status < 300, status_code: response.status };
  } catch {
    return { ok: false, status_code: null };
  }
}

function refused(job: AttemptJob, issue: string): AttemptResult {
  log("warn", "webhook target refused", { delivery_id: job.delivery_id, issue });
  return { ok: false, status_code: null };
}

/** Reads at most `max` bytes of the answer (nothing is kept), then lets the rest go. */
async function readAtMost(response: Response, max: number): Promise<void> {
  const reader: ReadableStreamDefaultReader<Uint8Array> | undefined = response.body?.getReader();
  if (reader === undefined) return;
  let read = 0;
  while (read <= max) {
    const chunk = await reader.read();
    if (chunk.done) return;
    read += chunk.value.byteLength;
  }
  await reader.cancel().catch(() => undefined);
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | null = null;
  const late = new Promise<T>((_, reject) => {
    timer = setTimeout(() => reject(new Error("timeout")), ms);
  });
  return Promise.race([p, late]).finally(() => {
    if (timer !== null) clearTimeout(timer);
  });
}
