/**
 * Callers: verifies the bearer JWT with jose (HS256 shared secret, PipesHub's scheme, or an
 * issuer's JWKS) and reads who is calling. Issuer and audience are checked whenever configured;
 * `exp` is required, `iat` too (the token may be at most `maxTokenAgeSeconds` old and not issued in
 * the future), both with a small clock tolerance. Org and user ids longer than a key can hold are
 * refused here (401), so they never reach DynamoDB (which would answer with an outage).
 */
import { createRemoteJWKSet, type JWTPayload, jwtVerify } from "jose";
import { fail } from "./errors.ts";
import type { Caller } from "./types.ts";

export interface AuthSettings {
  hs256Secret?: string;
  jwksUrl?: string;
  issuer?: string;
  audience?: string;
  /** Oldest accepted token by `iat` (default 24 h). */
  maxTokenAgeSeconds?: number;
}

export const DEFAULT_MAX_TOKEN_AGE_SECONDS = 24 * 60 * 60;
/** Clock skew tolerated between the token issuer and us, for exp, nbf and iat. */
export const CLOCK_TOLERANCE_SECONDS = 5;
/** Longest org or user id accepted (SPEC 5; DynamoDB keys and the 512-character state hold it). */
export const MAX_CALLER_ID_LENGTH = 256;

/** PipesHub's rule for OAuth-issued tokens: a `scope` claim must grant connector:write. */
const REQUIRED_SCOPE = "connector:write";

function claimsToCaller(claims: JWTPayload): Caller {
  const userId = typeof claims.sub === "string" ? claims.sub : claims.userId;
  const { orgId, email, role, roles, scope } = claims as Record<string, unknown>;
  if (typeof userId !== "string" || !userId || typeof orgId !== "string" || !orgId) {
    throw fail("unauthorized", "The token does not name a user and an organization");
  }
  if (userId.length > MAX_CALLER_ID_LENGTH || orgId.length > MAX_CALLER_ID_LENGTH) {
    throw fail(
      "unauthorized",
      `User and organization ids may have at most ${MAX_CALLER_ID_LENGTH} characters`,
    );
  }
  if (scope !== undefined) {
    const granted = Array.isArray(scope) ? scope : String(scope).split(" ");
    if (!granted.includes(REQUIRED_SCOPE))
      throw fail("forbidden", `The token lacks the ${REQUIRED_SCOPE} scope`);
  }
  const isAdmin = role === "admin" || (Array.isArray(roles) && roles.includes("admin"));
  return { userId, orgId, email: typeof email === "string" ? email : undefined, isAdmin };
}

/** Returns a function that turns an Authorization header into a verified Caller, or throws 401. */
export function callerVerifier(
  settings: AuthSettings,
): (authorization: string | undefined) => Promise<Caller> {
  const key = settings.hs256Secret
    ? new TextEncoder().encode(settings.hs256Secret)
    : createRemoteJWKSet(new URL(settings.jwksUrl ?? "invalid:"));
  const algorithms = settings.hs256Secret ? ["HS256"] : ["RS256", "PS256", "ES256", "EdDSA"];
  const options = {
    algorithms,
    issuer: settings.issuer,
    audience: settings.audience,
    requiredClaims: ["exp", "iat"],
    maxTokenAge: settings.maxTokenAgeSeconds ?? DEFAULT_MAX_TOKEN_AGE_SECONDS,
    clockTolerance: CLOCK_TOLERANCE_SECONDS,
  };
  return async (authorization) => {
    const match = /^Bearer ([A-Za-z0-9._~+/-]+=*)$/.exec(authorization ?? "");
    if (!match?.[1]) throw fail("unauthorized", "A bearer token is required");
    let claims: JWTPayload;
    try {
      // Both key kinds satisfy jwtVerify's overloads; the union needs one of them named.
      claims = (await jwtVerify(match[1], key as Uint8Array, options)).payload;
    } catch (error) {
      throw fail("unauthorized", "The bearer token is invalid or expired", error);
    }
    return claimsToCaller(claims);
  };
}
