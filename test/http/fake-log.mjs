// A small transparency log for the witness's, verify-receipt's and the browser model's tests, before (and beside)
// the real one: it holds leaves, signs C2SP checkpoints with its own Ed25519 log key, and serves the contract's
// /api/v1/log/* routes. Its proofs come from the independent RFC 9162 reference (test/reference/rfc9162.ts), not
// from src/domain/merkle.ts, so a verifier that agrees with them agrees with the RFC. A test can make it lie:
// `lie` replaces the answer of a route (a forked, rolled-back or badly signed checkpoint, a bad proof).
import { createServer } from "node:http";
import { bytesOf, hexOf, mth, path, subproof } from "../reference/rfc9162.ts";
import {
  SIG_ED25519,
  formatCheckpointBody,
  formatNote,
  formatVerifierKey,
  parseVerifierKey,
  signNoteBody,
} from "../../src/domain/signed-note.ts";

const encoder = new TextEncoder();

/**
 * A log leaf as the contract defines it: the UTF-8 of JSON.stringify([wallet_id, seq, hash]).
 * @param {string} walletId
 * @param {number} seq
 * @param {string} hash
 */
export const leafOf = (walletId, seq, hash) => encoder.encode(JSON.stringify([walletId, seq, hash]));

/**
 * A fake log with its own key.
 * @param {{ origin?: string }} [options]
 */
export async function fakeLog({ origin = "wallet.test/log" } = {}) {
  const pair = /** @type {CryptoKeyPair} */ (await crypto.subtle.generateKey({ name: "Ed25519" }, true, ["sign", "verify"]));
  const publicKey = new Uint8Array(await crypto.subtle.exportKey("raw", pair.publicKey));
  const vkey = formatVerifierKey(origin, SIG_ED25519, publicKey);
  const signer = { privateKey: pair.privateKey, key: parseVerifierKey(vkey) };
  /** @type {Uint8Array[]} the leaves' data, in log order */
  const leaves = [];
  /** @type {string[]} cosigned checkpoints posted to it */
  const cosignatures = [];

  /**
   * The signed checkpoint of the first `size` leaves of `data` (the log's own by default).
   * @param {number} [size]
   * @param {Uint8Array[]} [data]
   */
  async function checkpoint(size = leaves.length, data = leaves) {
    const body = formatCheckpointBody({ origin, size, root: await mth(data.slice(0, size)) });
    return formatNote(body, [await signNoteBody(body, signer)]);
  }

  /** @type {{ checkpoint?: () => Promise<string> | string, consistency?: (from: number, to: number) => Promise<unknown> | unknown, proof?: (q: URLSearchParams) => Promise<unknown> | unknown }} */
  const lie = {};

  const log = {
    origin,
    vkey,
    signer,
    leaves,
    cosignatures,
    lie,
    checkpoint,
    /**
     * Appends leaves.
     * @param {...Uint8Array} data
     */
    append(...data) {
      leaves.push(...data);
    },
    /**
     * An RFC 9162 consistency proof between two sizes of `data`, as the contract's JSON.
     * @param {number} from
     * @param {number} to
     * @param {Uint8Array[]} [data]
     */
    async consistency(from, to, data = leaves) {
      const proof = from === 0 || from === to ? [] : await subproof(from, data.slice(0, to), true);
      return { from, to, proof: proof.map(hexOf) };
    },
    /**
     * An inclusion proof of leaf `index` in the tree of `size`, as the contract's JSON.
     * @param {number} index
     * @param {number} size
     */
    async inclusion(index, size = leaves.length) {
      const proof = await path(index, leaves.slice(0, size));
      return { leaf_index: index, tree_size: size, leaf: new TextDecoder().decode(leaves[index]), inclusion: proof.map(hexOf) };
    },
    /** Serves the log routes on a free port; returns its base URL and a close function. */
    async serve() {
      const server = createServer((req, res) => void answer(req, res));
      await new Promise((ok) => server.listen(0, "127.0.0.1", () => ok(undefined)));
      const address = /** @type {import("node:net").AddressInfo} */ (server.address());
      return {
        url: `http://127.0.0.1:${address.port}`,
        close: () => new Promise((ok) => server.close(() => ok(undefined))),
      };
    },
    /**
     * Answers one request to the log routes the way the contract says (or as `lie` says); for a fake fetch too.
     * @param {string} method
     * @param {URL} url
     * @param {string} body
     * @returns {Promise<{ status: number, type: string, body: string }>}
     */
    async handle(method, url, body) {
      const q = url.searchParams;
      const json = (value, status = 200) => ({ status, type: "application/json", body: JSON.stringify(value) });
      switch (`${method} ${url.pathname}`) {
        case "GET /api/v1/log/key":
          return json({ origin, key_name: origin, vkey });
        case "GET /api/v1/log/checkpoint":
          return { status: 200, type: "text/plain; charset=utf-8", body: lie.checkpoint ? await lie.checkpoint() : await checkpoint() };
        case "GET /api/v1/log/consistency": {
          const from = Number(q.get("from"));
          const to = Number(q.get("to"));
          if (lie.consistency) return json(await lie.consistency(from, to));
          if (!(from <= to && to <= leaves.length)) return json({ error: { code: "validation_error", message: "bad sizes" } }, 400);
          return json(await log.consistency(from, to));
        }
        case "GET /api/v1/log/proof": {
          if (lie.proof) return json(await lie.proof(q));
          const wanted = [q.get("wallet_id"), Number(q.get("seq"))];
          const index = leaves.findIndex((l) => {
            const [w, s] = JSON.parse(new TextDecoder().decode(l));
            return w === wanted[0] && s === wanted[1];
          });
          const size = q.has("tree_size") ? Number(q.get("tree_size")) : leaves.length;
          if (index < 0 || index >= size) return json({ error: { code: "not_found", message: "not in the log yet" } }, 404);
          return json(await log.inclusion(index, size));
        }
        case "POST /api/v1/log/cosignatures":
          cosignatures.push(body);
          return { status: 204, type: "text/plain", body: "" };
        default:
          return json({ error: { code: "not_found", message: "no such route" } }, 404);
      }
    },
  };

  /**
   * @param {import("node:http").IncomingMessage} req
   * @param {import("node:http").ServerResponse} res
   */
  async function answer(req, res) {
    const chunks = [];
    for await (const chunk of req) chunks.push(chunk);
    const url = new URL(req.url ?? "/", "http://fake");
    const out = await log.handle(req.method ?? "GET", url, Buffer.concat(chunks).toString("utf8"));
    res.writeHead(out.status, out.body === "" ? {} : { "content-type": out.type });
    res.end(out.body);
  }

  return log;
}

export { bytesOf, hexOf };
