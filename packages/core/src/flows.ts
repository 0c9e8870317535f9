/**
 * Flow records (types.ts): the server-side half of one pending authorization, keyed by the state's
 * nonce.
 *
 * The PKCE verifier is stored sealed, never in plaintext: AES-256-GCM under a key derived with
 * HKDF-SHA-256 from the state's KMS MAC (info "connector-oauth/pkce-verifier/v1", AAD = nonce).
 * Layout: base64url(iv(12) || ciphertext || tag(16)). Reading the table alone therefore never yields a
 * verifier; it takes the table and the state (which only the browser and provider see) together.
 * A flow also keeps a snapshot of the connector's configuration at authorize time, so the code is
 * exchanged with the same client it was issued to.
 */

import { configDigest } from "./config-binding.ts";
import { type Bytes, fromBase64Url, toBase64Url, utf8 } from "./encoding.ts";
import type { FlowRecord } from "./types.ts";

/** How long a consumed or finished flow is kept to answer repeated callbacks. A flow that is never
 * consumed expires with its state. */
export const FLOW_RETENTION_SECONDS = 24 * 60 * 60;

/** How long a consumed flow belongs to its callback: well past the 15 s function timeout. */
export const FLOW_LEASE_MS = 30_000;

/** Pending (unconsumed, unexpired) flows one user may hold at once, unless configured otherwise. */
export const DEFAULT_MAX_PENDING_FLOWS = 20;

const HKDF_INFO = utf8("connector-oauth/pkce-verifier/v1");

async function verifierKey(stateMac: Bytes, usage: KeyUsage): Promise<CryptoKey> {
  const ikm = await crypto.subtle.importKey("raw", stateMac, "HKDF", false, ["deriveKey"]);
  return crypto.subtle.deriveKey(
    { name: "HKDF", hash: "SHA-256", salt: new Uint8Array(0), info: HKDF_INFO },
    ikm,
    { name: "AES-GCM", length: 256 },
    false,
    [usage],
  );
}

/**
 * What a flow record binds beyond its nonce: the digest of its connector snapshot and the
 * initiator's email. Both sit in the table; sealed into the verifier's AAD, a change to either by
 * whoever can write the table makes the verifier fail to open, so no code is exchanged.
 */
export async function flowBinding(flow: Pick<FlowRecord, "connector" | "initiatorEmail">): Promise<string> {
  return JSON.stringify([await configDigest(flow.connector), flow.initiatorEmail ?? null]);
}

/** Seals a PKCE verifier ("" for providers without PKCE: the seal still binds the flow) so that only
 * a holder of the verified state can open it, for this nonce and binding. */
export async function sealVerifier(
  stateMac: Bytes,
  nonce: string,
  verifier: string,
  binding = "",
): Promise<string> {
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const key = await verifierKey(stateMac, "encrypt");
  const ct = await crypto.subtle.encrypt(
    { name: "AES-GCM", iv, additionalData: utf8(nonce + binding) },
    key,
    utf8(verifier),
  );
  const out = new Uint8Array(iv.length + ct.byteLength);
  out.set(iv);
  out.set(new Uint8Array(ct), iv.length);
  return toBase64Url(out);
}

/** Opens a verifier sealed by sealVerifier; throws if the MAC, nonce or binding differ. */
export async function openVerifier(
  stateMac: Bytes,
  nonce: string,
  sealed: string,
  binding = "",
): Promise<string> {
  const bytes = fromBase64Url(sealed);
  const key = await verifierKey(stateMac, "decrypt");
  const plain = await crypto.subtle.decrypt(
    { name: "AES-GCM", iv: bytes.subarray(0, 12), additionalData: utf8(nonce + binding) },
    key,
    bytes.subarray(12),
  );
  return new TextDecoder().decode(plain);
}
