/**
 * Calls to a provider after the connect flow, on oauth4webapi: the refresh grant (RFC 6749 section 6)
 * and token revocation (RFC 7009, or the provider's own style), with the catalog's client authentication and token-endpoint quirks
 * (token-adapter.ts). Each attempt has a timeout, and a failure falls in one of three classes that
 * decide what happens next:
 * - rejected: the grant is gone (invalid_grant and provider equivalents); only a person reconnecting
 *   helps, so it is never retried;
 * - transient: no answer in time, a network failure, HTTP 5xx or 429 (or a provider's rate-limit or
 *   outage code); retried with capped exponential backoff, honouring Retry-After up to the cap;
 * - failed: anything else (client misconfigured, malformed answer); reported, not retried.
 */
import * as oauth from "oauth4webapi";
import type { ProviderEntry, ResolvedProvider, RevocationStyle } from "../catalog.ts";
import { fail, isServiceError } from "../errors.ts";
import {
  authorizationServer,
  type ClientCredentials,
  clientAuth,
  type ExchangeOptions,
  tokenEndpointRequestOptions,
} from "../oauth.ts";
import { tokenEndpointFetch } from "../token-adapter.ts";

export type FailureClass = "rejected" | "transient" | "failed";

/**
 * Error codes saying the grant is gone: RFC 6749 section 5.2 invalid_grant (a refresh token revoked,
 * expired, already used after rotation, or issued to another client) and Slack's names for the same
 * (its token endpoint answers HTTP 200 `ok: false`, which token-adapter.ts turns into a 400).
 */
const REJECTED_GRANT = new Set([
  "invalid_grant",
  "invalid_refresh_token",
  "token_revoked",
  "token_expired",
  "account_inactive",
]);

/** Codes of a provider that is overloaded or briefly failing, whatever HTTP status carried them. */
const TRANSIENT_CODES = new Set([
  "temporarily_unavailable",
  "server_error",
  "ratelimited",
  "rate_limited",
  "internal_error",
  "fatal_error",
  "service_unavailable",
  "request_timeout",
]);

export interface RetryPolicy {
  /** Attempts in all, the first included. */
  maxAttempts: number;
  /** Pause before the first retry; it doubles for each next retry, up to maxDelayMs. */
  baseDelayMs: number;
  maxDelayMs: number;
  /** An attempt with no complete answer after this long is abandoned (a transient failure). */
  attemptTimeoutMs: number;
}

export type CallOutcome<T> =
  | { ok: true; value: T; attempts: number }
  | { ok: false; failure: FailureClass; error: unknown; attempts: number };

export type CallOptions = ExchangeOptions;

function httpStatus(error: unknown): number | undefined {
  if (error instanceof oauth.ResponseBodyError || error instanceof oauth.WWWAuthenticateChallengeError) {
    return error.status;
  }
  if (error instanceof oauth.OperationProcessingError && error.cause instanceof Response) {
    return error.cause.status;
  }
  return undefined;
}

/** The provider's OAuth error code (`invalid_grant`, ...), when it sent one. */
export function providerErrorCode(error: unknown): string | undefined {
  const code = error instanceof oauth.ResponseBodyError ? error.error : undefined;
  // Only a plain code is kept: it is logged, and the body it came from is provider-controlled.
  return typeof code === "string" && /^[\w.-]{1,64}$/.test(code) ? code : undefined;
}

/** Sorts a failed provider call into rejected, transient or failed (see the module comment). */
export function classifyFailure(error: unknown): FailureClass {
  if (isServiceError(error, "dependency_unavailable")) return "transient";
  const status = httpStatus(error);
  if (status !== undefined && (status >= 500 || status === 429)) return "transient";
  const code = providerErrorCode(error);
  if (code && REJECTED_GRANT.has(code)) return "rejected";
  if (code && TRANSIENT_CODES.has(code)) return "transient";
  return "failed";
}

function retryAfterMs(header: string | null): number | undefined {
  return header && /^\d{1,6}$/.test(header.trim()) ? Number(header) * 1000 : undefined;
}

const NULL_BODY_STATUSES = new Set([101, 204, 205, 304]);

/**
 * `fetchImpl` bounded by a timeout that covers the whole body, with any failure to get a complete
 * answer turned into dependency_unavailable (transient); records Retry-After for the retry loop.
 */
function boundedFetch(
  fetchImpl: typeof fetch,
  timeoutMs: number,
  seen: { retryAfterMs?: number },
): typeof fetch {
  return async (input, init) => {
    try {
      const response = await fetchImpl(input, { ...init, signal: AbortSignal.timeout(timeoutMs) });
      const body = NULL_BODY_STATUSES.has(response.status) ? null : await response.arrayBuffer();
      seen.retryAfterMs = retryAfterMs(response.headers.get("retry-after"));
      return new Response(body, { status: response.status, headers: response.headers });
    } catch (error) {
      throw fail("dependency_unavailable", "The provider could not be reached", error);
    }
  };
}

/**
 * Runs `attempt` until it succeeds, fails other than transiently, or runs out of attempts; before
 * each retry it asks `mayWait` whether there is time left for the pause and one more attempt.
 */
export async function callWithRetries<T>(
  attempt: (fetchImpl: typeof fetch) => Promise<T>,
  options: {
    policy: RetryPolicy;
    sleep: (ms: number) => Promise<void>;
    fetch?: typeof fetch;
    mayWait?: (delayMs: number) => boolean;
  },
): Promise<CallOutcome<T>> {
  const { policy } = options;
  for (let attempts = 1; ; attempts++) {
    const seen: { retryAfterMs?: number } = {};
    try {
      const fetchImpl = boundedFetch(options.fetch ?? fetch, policy.attemptTimeoutMs, seen);
      return { ok: true, value: await attempt(fetchImpl), attempts };
    } catch (error) {
      const failure = classifyFailure(error);
      const backoff = policy.baseDelayMs * 2 ** (attempts - 1);
      const delay = Math.min(policy.maxDelayMs, Math.max(backoff, seen.retryAfterMs ?? 0));
      const retry =
        failure === "transient" && attempts < policy.maxAttempts && options.mayWait?.(delay) !== false;
      if (!retry) return { ok: false, failure, error, attempts };
      await options.sleep(delay);
    }
  }
}

/**
 * A refresh response carries its token set at the top level (RFC 6749 section 5.1), also at Slack,
 * whose code exchange nests the user's set under `authed_user`; metadata paths stay as they are.
 */
function refreshEntry(entry: ProviderEntry): ProviderEntry {
  if (!entry.tokenResponse?.tokenSetPath) return entry;
  return { ...entry, tokenResponse: { ...entry.tokenResponse, tokenSetPath: undefined } };
}

/** One refresh grant request (one attempt), processed by oauth4webapi. */
export async function refreshGrant(
  provider: ResolvedProvider,
  client: ClientCredentials,
  refreshToken: string,
  options: CallOptions,
): Promise<oauth.TokenEndpointResponse> {
  const as = { ...authorizationServer(provider), token_endpoint: provider.refreshUrl ?? provider.tokenUrl };
  const oauthClient = { client_id: client.clientId };
  const response = await oauth.refreshTokenGrantRequest(
    as,
    oauthClient,
    clientAuth(provider, client.clientSecret),
    refreshToken,
    tokenEndpointRequestOptions(refreshEntry(provider.entry), options),
  );
  return oauth.processRefreshTokenResponse(as, oauthClient, response);
}

/**
 * The token endpoint's quirks (body format, headers, Basic credentials, HTTP 200 error bodies) apply
 * to revocation too, but an RFC 7009 success is any HTTP 200, usually with an empty body, which
 * tokenEndpointFetch reads as a malformed token response (502): that case is a success here.
 */
function revocationFetch(entry: ProviderEntry, fetchImpl: typeof fetch = fetch) {
  return async (url: string, init: RequestInit & { headers: Record<string, string> }) => {
    let providerStatus = 0;
    const adapted = await tokenEndpointFetch(entry, async (input, requestInit) => {
      const response = await fetchImpl(input, requestInit);
      providerStatus = response.status;
      return response;
    })(url, init);
    return providerStatus === 200 && adapted.status === 502 ? new Response(null, { status: 200 }) : adapted;
  };
}

export interface TokenToRevoke {
  value: string;
  hint: "refresh_token" | "access_token";
}

/** The request of a revocation style other than RFC 7009 (catalog.ts `revocationStyle`). */
function styledRevocation(style: RevocationStyle, revocationUrl: string, token: TokenToRevoke) {
  const url = new URL(revocationUrl);
  if (style === "bearer") {
    return { url, init: { method: "POST", headers: { authorization: `Bearer ${token.value}` } } };
  }
  if (style === "field") {
    const body = new URLSearchParams({ [token.hint]: token.value }).toString();
    const headers = { "content-type": "application/x-www-form-urlencoded" };
    return { url, init: { method: "POST", headers, body } };
  }
  url.searchParams.set("token", token.value);
  return { url, init: { method: "POST" } };
}

/** Slack-style HTTP 200 `{ok: false, error}` as the HTTP 400 OAuth error it stands for. */
async function normalizedRevocationAnswer(response: Response): Promise<Response> {
  if (response.status !== 200) return response;
  const text = await response.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return new Response(text, { status: 200 });
  }
  const failed = body && typeof body === "object" && (body as { ok?: unknown }).ok === false;
  if (!failed) return new Response(text, { status: 200 });
  const error = (body as { error?: unknown }).error;
  return Response.json({ error: typeof error === "string" ? error : "provider_error" }, { status: 400 });
}

/** One revocation request (one attempt) in the entry's style; resolves when the provider answered 200. */
export async function revokeToken(
  provider: ResolvedProvider,
  client: ClientCredentials,
  token: TokenToRevoke,
  options: CallOptions,
): Promise<void> {
  if (!provider.revocationUrl) throw fail("oauth_not_configured", "The provider has no revocation endpoint");
  const style = provider.entry.revocationStyle ?? "rfc7009";
  if (style !== "rfc7009") {
    const { url, init } = styledRevocation(style, provider.revocationUrl, token);
    const response = await (options.fetch ?? fetch)(url.href, { ...init, redirect: "manual" });
    await oauth.processRevocationResponse(await normalizedRevocationAnswer(response));
    return;
  }
  const response = await oauth.revocationRequest(
    authorizationServer(provider),
    { client_id: client.clientId },
    clientAuth(provider, client.clientSecret),
    token.value,
    {
      additionalParameters: { token_type_hint: token.hint },
      ...tokenEndpointRequestOptions(provider.entry, options, revocationFetch),
    },
  );
  await oauth.processRevocationResponse(response);
}
