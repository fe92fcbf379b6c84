/**
 * Signed receipts. Every succeeded transfer can be shown to a third party as a receipt: the transfer and the
 * hashes of the two entries it produced (the sender's debit and the recipient's credit, each a link of its
 * wallet's chain), signed with Ed25519 (WebCrypto). The signed bytes are the canonical JSON of `receipt`
 * (keys sorted at every level, no spaces), so anyone can recompute them; `npm run verify-receipt -- FILE`
 * does so offline.
 *
 * Secrets: RECEIPT_KEY_ID (a short name) and RECEIPT_SIGNING_KEY (an Ed25519 private key, PKCS#8 DER,
 * base64url). `npm start` generates them; production sets them with `wrangler secret put`.
 */
import { canonicalJson } from "../domain/canonical";
import { base64urlDecode, base64urlEncode } from "../auth/encoding";

/** What a receipt attests. */
export interface ReceiptBody {
  version: "v1";
  transfer: {
    id: string;
    status: "succeeded";
    from_wallet_id: string;
    to_wallet_id: string;
    amount: number;
    currency: string;
    memo: string | null;
    created_at: string;
    completed_at: string;
    /** Present only on a refund, so that every receipt signed before refunds existed stays the same bytes. */
    refund_of?: string;
    /** Present only on the payment of a request. */
    payment_request_id?: string;
  };
  entries: { wallet_id: string; seq: number; kind: string; amount: number; hash: string }[];
}

/** A receipt and its signature. */
export interface SignedReceipt {
  receipt: ReceiptBody;
  signature: { alg: "Ed25519"; key_id: string; value: string };
}

export interface ReceiptSecretVars {
  RECEIPT_KEY_ID?: string;
  RECEIPT_SIGNING_KEY?: string;
}

interface SigningKey {
  key_id: string;
  private: CryptoKey;
  public_key: string;
}

const keys = new WeakMap<object, Promise<SigningKey>>();

async function importKey(vars: ReceiptSecretVars): Promise<SigningKey> {
  const key_id = vars.RECEIPT_KEY_ID;
  if (key_id === undefined || !/^[A-Za-z0-9_-]{1,32}$/.test(key_id)) throw new Error("secret RECEIPT_KEY_ID is not set");
  if (vars.RECEIPT_SIGNING_KEY === undefined) throw new Error("secret RECEIPT_SIGNING_KEY is not set");
  const pkcs8 = base64urlDecode(vars.RECEIPT_SIGNING_KEY);
  // Extractable only so the public half can be derived once, here; the private key never leaves this module.
  const privateKey = await crypto.subtle.importKey("pkcs8", pkcs8, { name: "Ed25519" }, true, ["sign"]);
  const jwk = (await crypto.subtle.exportKey("jwk", privateKey)) as JsonWebKey;
  if (jwk.x === undefined) throw new Error("RECEIPT_SIGNING_KEY has no public part");
  const signer = await crypto.subtle.importKey("pkcs8", pkcs8, { name: "Ed25519" }, false, ["sign"]);
  return { key_id, private: signer, public_key: jwk.x };
}

function signingKey(vars: ReceiptSecretVars): Promise<SigningKey> {
  let key = keys.get(vars);
  if (key === undefined) {
    key = importKey(vars);
    keys.set(vars, key);
  }
  return key;
}

/** The bytes that are signed. */
export function receiptBytes(receipt: ReceiptBody): Uint8Array {
  return new TextEncoder().encode(canonicalJson(receipt));
}

/** Signs `receipt` with the current key. */
export async function signReceipt(vars: ReceiptSecretVars, receipt: ReceiptBody): Promise<SignedReceipt> {
  const key = await signingKey(vars);
  const signature = new Uint8Array(await crypto.subtle.sign({ name: "Ed25519" }, key.private, receiptBytes(receipt)));
  return { receipt, signature: { alg: "Ed25519", key_id: key.key_id, value: base64urlEncode(signature) } };
}

/**
 * Signs the canonical JSON of any document with the receipt key, exactly as receipts are signed; statements
 * (audit/statements.ts) use it, so one key and one signing rule cover everything the service attests.
 */
export async function signCanonical(vars: ReceiptSecretVars, document: unknown): Promise<SignedReceipt["signature"]> {
  const key = await signingKey(vars);
  const bytes = new TextEncoder().encode(canonicalJson(document));
  const signature = new Uint8Array(await crypto.subtle.sign({ name: "Ed25519" }, key.private, bytes));
  return { alg: "Ed25519", key_id: key.key_id, value: base64urlEncode(signature) };
}

/** The public key receipts are verified with. */
export async function receiptPublicKey(vars: ReceiptSecretVars): Promise<{ key_id: string; alg: "Ed25519"; public_key: string }> {
  const key = await signingKey(vars);
  return { key_id: key.key_id, alg: "Ed25519", public_key: key.public_key };
}

/** Checks a signed receipt against a raw Ed25519 public key (base64url). */
export async function verifyReceipt(signed: SignedReceipt, public_key: string): Promise<boolean> {
  const key = await crypto.subtle.importKey("raw", base64urlDecode(public_key), { name: "Ed25519" }, false, ["verify"]);
  return crypto.subtle.verify({ name: "Ed25519" }, key, base64urlDecode(signed.signature.value), receiptBytes(signed.receipt));
}
