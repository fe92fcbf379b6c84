/**
 * The log's signing key: an Ed25519 private key (secret LOG_SIGNING_KEY, PKCS#8 DER, base64url, like the
 * receipt key but never the same one), named by the log's origin (LOG_ORIGIN), as C2SP signed-note wants: the
 * key name equals the checkpoint's origin line. `npm start` generates it; production sets it with
 * `wrangler secret put LOG_SIGNING_KEY`.
 */
import { base64urlDecode } from "../auth/encoding";
import { formatVerifierKey, parseVerifierKey, SIG_ED25519, type NoteSigner } from "../domain/signed-note";

/** The log's signer and its public verifier key in C2SP form. */
export interface LogSigner extends NoteSigner {
  vkey: string;
}

const signers = new Map<string, Promise<LogSigner>>();

async function importSigner(secret: string, origin: string): Promise<LogSigner> {
  const pkcs8 = base64urlDecode(secret);
  // Extractable only here, to derive the public half once; the signing copy is not extractable.
  const extractable = await crypto.subtle.importKey("pkcs8", pkcs8, { name: "Ed25519" }, true, ["sign"]);
  const jwk = (await crypto.subtle.exportKey("jwk", extractable)) as JsonWebKey;
  if (jwk.x === undefined) throw new Error("LOG_SIGNING_KEY has no public part");
  const privateKey = await crypto.subtle.importKey("pkcs8", pkcs8, { name: "Ed25519" }, false, ["sign"]);
  const vkey = formatVerifierKey(origin, SIG_ED25519, base64urlDecode(jwk.x));
  return { privateKey, key: parseVerifierKey(vkey), vkey };
}

/** The log's signer for this environment (imported once per key and origin). Throws when the secret is unset. */
export function logSigner(env: { LOG_SIGNING_KEY?: string }, origin: string): Promise<LogSigner> {
  const secret = env.LOG_SIGNING_KEY;
  if (secret === undefined || secret === "") return Promise.reject(new Error("secret LOG_SIGNING_KEY is not set"));
  // Keyed by a digest-free composite: the secret never leaves this map's keys, which live only in memory.
  const cacheKey = `${origin}\n${secret}`;
  let signer = signers.get(cacheKey);
  if (signer === undefined) {
    signer = importSigner(secret, origin);
    signers.set(cacheKey, signer);
  }
  return signer;
}
