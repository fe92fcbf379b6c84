// A small local webhook receiver, for trying the service (as `stripe listen` is): it verifies every delivery
// with the `standardwebhooks` package and prints the event, one line each; a delivery whose signature does not
// verify is answered 400 and printed as refused.
//
//   npm run webhook:listen -- --port 9000 --secret whsec_...
//
// Register it with POST /api/v1/webhook-endpoints {"url": "http://127.0.0.1:9000/", "types": [...]} on a local
// server (`npm start` allows http to loopback; a deployment does not). Options: --port P (default 9000),
// --secret S (the endpoint's secret, shown once when it was registered; or WEBHOOK_SECRET), --json (print each
// verified body as it arrived, one JSON line each, instead of the summary).
import { createServer } from "node:http";
import { parseArgs } from "node:util";
import { Webhook } from "standardwebhooks";

/** Largest body accepted: an event is a few KiB at most. */
const MAX_BODY_BYTES = 1_048_576;

/**
 * Starts a receiver on 127.0.0.1:`port`; `onEvent` gets each verified event and its raw body. Resolves with the
 * server once it listens (for tests, which also use it).
 */
/**
 * @param {{ port: number, secret: string, onEvent: (event: any, body: string, headers: Record<string, string>) => void,
 *   onRefused?: (why: string, id: string | undefined) => void }} options
 * @returns {Promise<import("node:http").Server>}
 */
export function listen({ port, secret, onEvent, onRefused = () => {} }) {
  const verifier = new Webhook(secret);
  const server = createServer((req, res) => {
    const chunks = [];
    let size = 0;
    req.on("data", (chunk) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) req.destroy();
      else chunks.push(chunk);
    });
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(v)]));
      let event;
      try {
        event = verifier.verify(body, headers);
      } catch (error) {
        onRefused(error instanceof Error ? error.message : String(error), headers["webhook-id"]);
        res.writeHead(400, { "content-type": "text/plain" }).end("signature does not verify\n");
        return;
      }
      onEvent(event, body, headers);
      res.writeHead(204).end();
    });
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve(server));
  });
}

/** One line per event: its type, id, seq and (for a transfer, deposit or withdrawal) the amount. */
export function summary(event) {
  const object = event?.data?.object ?? {};
  const amount = typeof object.amount === "number" ? ` amount=${object.amount}${object.currency ? ` ${object.currency}` : ""}` : "";
  return `${event.type} id=${event.id} seq=${event.seq}${amount}`;
}

const isMain = import.meta.url === `file://${process.argv[1]}`;
if (isMain) {
  const { values } = parseArgs({
    options: { port: { type: "string", default: "9000" }, secret: { type: "string" }, json: { type: "boolean", default: false } },
  });
  const port = Number(values.port);
  const secret = values.secret ?? process.env.WEBHOOK_SECRET;
  if (!Number.isInteger(port) || port < 1 || port > 65_535) throw new Error("--port must be 1..65535");
  if (secret === undefined || !secret.startsWith("whsec_")) throw new Error("--secret whsec_... is required (the endpoint's secret)");
  await listen({
    port,
    secret,
    onEvent: (event, body) => console.log(values.json ? body : summary(event)),
    onRefused: (why, id) => console.log(`refused ${id ?? "(no webhook-id)"}: ${why}`),
  });
  console.log(`[webhook:listen] verifying deliveries on http://127.0.0.1:${port}/`);
}
