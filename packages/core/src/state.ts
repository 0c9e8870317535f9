/**
 * The OAuth `state` parameter: a compact, versioned, KMS-MACed token.
 *
 * Format, version 1 (at most 512 characters):
 *   "v1." + base64url(JSON payload) + "." + base64url(HMAC-SHA-256 over the ASCII of "v1.<payload>")
 * Payload keys: c connectorId, o orgId, u userId, p provider, n nonce (>= 128 random bits,
 * base64url), r return app origin, iat / exp (seconds since the epoch).
 * The MAC key lives in KMS (GenerateMac / VerifyMac). No secret is ever in the payload: the PKCE
 * verifier stays server-side in the flow record keyed by `n`. Structure is checked before the MAC
 * (cheap rejects), and the MAC before anything is read from storage or sent to a provider.
 */
import { type Bytes, fromBase64Url, fromUtf8, toBase64Url, utf8 } from "./encoding.ts";
import { fail } from "./errors.ts";
import type { StateMac } from "./ports.ts";

export const STATE_VERSION = "v1";
export const STATE_MAX_LENGTH = 512;
export const STATE_LIFETIME_SECONDS = 600;
const MAC_BYTES = 32;
const MIN_NONCE_BYTES = 16;

export interface StateClaims {
  connectorId: string;
  orgId: string;
  userId: string;
  provider: string;
  nonce: string;
  returnOrigin: string;
  issuedAt: number;
  expiresAt: number;
}

/** A state whose MAC verified; `expired` is decided by the caller's clock. */
export interface VerifiedState {
  claims: StateClaims;
  /** The raw MAC bytes: key material for sealing the flow's PKCE verifier (flows.ts). */
  mac: Bytes;
}

/** Signs claims into a state string; fails if the result would exceed the length limit. */
export async function issueState(mac: StateMac, claims: StateClaims): Promise<{ state: string; mac: Bytes }> {
  const payload = {
    c: claims.connectorId,
    o: claims.orgId,
    u: claims.userId,
    p: claims.provider,
    n: claims.nonce,
    r: claims.returnOrigin,
    iat: claims.issuedAt,
    exp: claims.expiresAt,
  };
  const signed = `${STATE_VERSION}.${toBase64Url(utf8(JSON.stringify(payload)))}`;
  const tag = await mac.generate(utf8(signed));
  const state = `${signed}.${toBase64Url(tag)}`;
  if (state.length > STATE_MAX_LENGTH) throw fail("invalid_request", "Identifiers are too long for a state");
  return { state, mac: tag };
}

/** Verifies a state's structure then its MAC; any defect is `invalid_state`. */
export async function verifyState(mac: StateMac, state: string): Promise<VerifiedState> {
  const parsed = parseState(state);
  if (!parsed) throw invalidState();
  // VerifyMac, not a recomputation: the callback's role can check states but never mint them.
  if (!(await mac.verify(utf8(parsed.signed), parsed.tag))) throw invalidState();
  return { claims: parsed.claims, mac: parsed.tag };
}

function invalidState() {
  return fail("invalid_state", "The sign-in link is invalid. Start connecting again from the app.");
}

function parseState(state: string): { signed: string; tag: Bytes; claims: StateClaims } | undefined {
  if (typeof state !== "string" || state.length > STATE_MAX_LENGTH) return undefined;
  const parts = state.split(".");
  if (parts.length !== 3 || parts[0] !== STATE_VERSION) return undefined;
  try {
    const tag = fromBase64Url(parts[2] ?? "");
    if (tag.length !== MAC_BYTES) return undefined;
    const claims = toClaims(JSON.parse(fromUtf8(fromBase64Url(parts[1] ?? ""))));
    return claims && { signed: `${parts[0]}.${parts[1]}`, tag, claims };
  } catch {
    return undefined;
  }
}

function toClaims(p: Record<string, unknown>): StateClaims | undefined {
  const strings = [p.c, p.o, p.u, p.p, p.n, p.r];
  if (!strings.every((v) => typeof v === "string" && v.length > 0)) return undefined;
  if (!Number.isSafeInteger(p.iat) || !Number.isSafeInteger(p.exp)) return undefined;
  if (fromBase64Url(p.n as string).length < MIN_NONCE_BYTES) return undefined;
  return {
    connectorId: p.c as string,
    orgId: p.o as string,
    userId: p.u as string,
    provider: p.p as string,
    nonce: p.n as string,
    returnOrigin: p.r as string,
    issuedAt: p.iat as number,
    expiresAt: p.exp as number,
  };
}
