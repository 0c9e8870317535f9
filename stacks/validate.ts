/**
 * Deploy-time checks of stage settings: a bad value fails `sst deploy` with the setting's name
 * instead of failing every cold start. The functions validate again at cold start (the code owns the
 * rules); these checks only catch what would make a deployed stage unusable.
 *
 * Pure functions (no SST globals), so unit tests import them directly.
 */

// Only the host rules, not the whole core: this runs inside `sst deploy`.
import { isLoopbackHost } from "@connector-oauth/core/endpoint-safety";

function parseUrl(value: string) {
  try {
    return new URL(value);
  } catch {
    return undefined;
  }
}

/** https, or http on a loopback host (a developer's local app against a dev stage). */
function isSecureOrLoopback(url: { protocol: string; hostname: string }): boolean {
  return url.protocol === "https:" || (url.protocol === "http:" && isLoopbackHost(url.hostname));
}

/** AppOrigins: comma-separated exact origins (scheme://host[:port], nothing else); returns them trimmed. */
export function checkAppOrigins(value: string): string {
  const origins = value
    .split(",")
    .map((origin) => origin.trim())
    .filter((origin) => origin !== "");
  if (origins.length === 0)
    throw new Error("AppOrigins: set at least one origin, e.g. https://app.example.com");
  for (const origin of origins) {
    const url = parseUrl(origin);
    if (!url || url.origin !== origin || !isSecureOrLoopback(url)) {
      throw new Error(`AppOrigins: "${origin}" is not an exact https origin like https://app.example.com`);
    }
  }
  return origins.join(",");
}

/** SuccessPath / ErrorPath: empty (the code's default) or an absolute path. */
export function checkPath(name: string, value: string): string {
  if (value !== "" && (!value.startsWith("/") || value.startsWith("//"))) {
    throw new Error(`${name}: "${value}" must be a path starting with a single "/"`);
  }
  return value;
}

/** PublicApiUrl: empty (use the API's own URL) or an https base URL; returned without a trailing slash. */
export function checkPublicApiUrl(value: string): string {
  if (value === "") return "";
  const url = parseUrl(value);
  if (url?.protocol !== "https:" || url.search !== "" || url.hash !== "") {
    throw new Error(`PublicApiUrl: "${value}" must be an https URL without query or fragment`);
  }
  return value.replace(/\/+$/, "");
}

/** The caller's JWTs are checked with exactly one of a shared HS256 secret or an issuer's JWKS URL. */
export function checkAuth(auth: { hs256Secret: string; jwksUrl: string }): void {
  const configured = [auth.hs256Secret, auth.jwksUrl].filter((value) => value !== "").length;
  if (configured !== 1) {
    throw new Error("AuthHs256Secret / AuthJwksUrl: set exactly one of them");
  }
  // The same floor as packages/config/src/service.ts, so a short secret fails the deploy, not every cold start.
  if (auth.hs256Secret !== "" && auth.hs256Secret.length < 16) {
    throw new Error("AuthHs256Secret: must be at least 16 characters");
  }
  const jwks = auth.jwksUrl === "" ? undefined : parseUrl(auth.jwksUrl);
  if (auth.jwksUrl !== "" && jwks?.protocol !== "https:") {
    throw new Error("AuthJwksUrl: must be an https URL");
  }
}

/**
 * TokenConsumerPrincipals: empty, or comma-separated IAM role or user ARNs (the principals allowed to
 * assume the token consumer role); returned as a list. No wildcards and no account roots: naming the
 * root would let every principal of that account whose own policy allows it assume the role.
 */
export function checkPrincipalArns(value: string): string[] {
  const arns = value
    .split(",")
    .map((arn) => arn.trim())
    .filter((arn) => arn !== "");
  for (const arn of arns) {
    if (!/^arn:aws[a-z-]*:iam::\d{12}:(role|user)\/[\w+=,.@/-]{1,512}$/.test(arn) || arn.includes("*")) {
      throw new Error(`TokenConsumerPrincipals: "${arn}" is not an IAM role or user ARN`);
    }
  }
  return arns;
}
