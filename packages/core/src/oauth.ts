/**
 * The OAuth client side, on oauth4webapi: authorization URLs with PKCE, authorization response
 * validation (RFC 9207 `iss`, duplicated parameters) and the code exchange. Provider quirks come from
 * the resolved catalog entry only.
 */
import * as oauth from "oauth4webapi";
import type { ProviderEntry, ResolvedProvider } from "./catalog.ts";
import { tokenEndpointFetch } from "./token-adapter.ts";

/** Issuer placeholder for providers without one: any `iss` they send is then a mismatch. */
const NO_ISSUER = "urn:connector-oauth:issuer-not-published";

export interface ClientCredentials {
  clientId: string;
  clientSecret?: string;
}

/** How token-endpoint requests (code exchange, refresh, revocation) are sent. */
export interface ExchangeOptions {
  allowLoopbackHttp: boolean;
  fetch?: typeof fetch;
  /** Deadline of the whole request, response body included; none when unset. */
  timeoutMs?: number;
}

/** oauth4webapi request options: the entry's quirks through `fetchFor`, http only to loopback when allowed. */
export function tokenEndpointRequestOptions(
  entry: ProviderEntry,
  options: ExchangeOptions,
  fetchFor: (
    entry: ProviderEntry,
    fetchImpl?: typeof fetch,
  ) => ReturnType<typeof tokenEndpointFetch> = tokenEndpointFetch,
) {
  return {
    [oauth.customFetch]: fetchFor(entry, options.fetch),
    [oauth.allowInsecureRequests]: options.allowLoopbackHttp,
    // A fresh signal per request, so the deadline counts from when the request is sent.
    signal:
      options.timeoutMs === undefined
        ? undefined
        : () => AbortSignal.timeout(Math.max(0, options.timeoutMs as number)),
  };
}

export function authorizationServer(provider: ResolvedProvider): oauth.AuthorizationServer {
  return {
    issuer: provider.issuer ?? NO_ISSUER,
    authorization_endpoint: provider.authorizationUrl,
    token_endpoint: provider.tokenUrl,
    revocation_endpoint: provider.revocationUrl,
  };
}

/** Builds the provider URL; reserved parameters are set last so nothing can override them. */
export function buildAuthorizationUrl(
  provider: ResolvedProvider,
  request: { clientId: string; redirectUri: string; state: string; codeChallenge?: string },
): string {
  const url = new URL(provider.authorizationUrl);
  const entry = provider.entry;
  const params: Record<string, string | undefined> = {
    ...entry.authorizationParams,
    [entry.scopeParam ?? "scope"]: provider.scopes.join(entry.scopeSeparator ?? " "),
    client_id: request.clientId,
    redirect_uri: request.redirectUri,
    response_type: "code",
    state: request.state,
    code_challenge: request.codeChallenge,
    code_challenge_method: request.codeChallenge ? "S256" : undefined,
  };
  for (const [name, value] of Object.entries(params)) {
    if (value) url.searchParams.set(name, value);
    else url.searchParams.delete(name);
  }
  return url.href;
}

/** Creates a PKCE pair (RFC 7636: 32 random bytes -> 43-char verifier, S256 challenge). */
export async function createPkce(): Promise<{ verifier: string; challenge: string }> {
  const verifier = oauth.generateRandomCodeVerifier();
  return { verifier, challenge: await oauth.calculatePKCECodeChallenge(verifier) };
}

/** Validates an authorization response (iss, state, duplicates, error) with oauth4webapi. */
export function validateCallback(
  provider: ResolvedProvider,
  clientId: string,
  params: URLSearchParams,
  state: string,
) {
  return oauth.validateAuthResponse(authorizationServer(provider), { client_id: clientId }, params, state);
}

/** Token-endpoint client authentication: the entry's method; none without a secret. */
export function clientAuth(provider: ResolvedProvider, secret: string | undefined): oauth.ClientAuth {
  if (secret === undefined) return oauth.None();
  return provider.entry.clientAuth === "client_secret_basic"
    ? oauth.ClientSecretBasic(secret)
    : oauth.ClientSecretPost(secret);
}

/** Exchanges an authorization code once (never retried) and returns the processed token response. */
export async function exchangeCode(
  provider: ResolvedProvider,
  client: ClientCredentials,
  callbackParams: URLSearchParams,
  redirectUri: string,
  verifier: string | undefined,
  options: ExchangeOptions,
): Promise<oauth.TokenEndpointResponse> {
  const as = authorizationServer(provider);
  const oauthClient = { client_id: client.clientId };
  const response = await oauth.authorizationCodeGrantRequest(
    as,
    oauthClient,
    clientAuth(provider, client.clientSecret),
    callbackParams,
    redirectUri,
    verifier ?? oauth.nopkce,
    tokenEndpointRequestOptions(provider.entry, options),
  );
  return oauth.processAuthorizationCodeResponse(as, oauthClient, response);
}
