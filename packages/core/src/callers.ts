/**
 * Callers: verifies the bearer JWT with jose (HS256 shared secret, PipesHub's scheme, or an
 * issuer's JWKS) and reads who is calling. Issuer and audience are checked whenever configured.
 */
import { createRemoteJWKSet, type JWTPayload, jwtVerify } from "jose";
import type { Caller } from "./connectors.ts";
import { fail } from "./errors.ts";

export interface AuthSettings {
  hs256Secret?: string;
  jwksUrl?: string;
  issuer?: string;
  audience?: string;
}

/** PipesHub's rule for OAuth-issued tokens: a `scope` claim must grant connector:write. */
const REQUIRED_SCOPE = "connector:write";

function claimsToCaller(claims: JWTPayload): Caller {
  const userId = typeof claims.sub === "string" ? claims.sub : claims.userId;
  const { orgId, email, role, roles, scope } = claims as Record<string, unknown>;
  if (typeof userId !== "string" || !userId || typeof orgId !== "string" || !orgId) {
    throw fail("unauthorized", "The token does not name a user and an organization");
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
  const options = { algorithms, issuer: settings.issuer, audience: settings.audience };
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
