/**
 * The legacy Google Workspace code exchange (PipesHub's getTokenFromCode): an org admin posts a
 * code from the Google Identity Services popup; we exchange it form-encoded, once (an authorization
 * code POST is never retried), verify any id_token's signature against Google's JWKS, check the
 * account matches the caller, and store the tokens like the callback does.
 */
import type { JWTPayload } from "jose";
import * as oauth from "oauth4webapi";
import { providerEntry, type ResolvedProvider, resolveProvider } from "./catalog.ts";
import { type ConnectDeps, withinBudget } from "./connect.ts";
import { assertCanConnect, loadConnector } from "./connectors.ts";
import { fail } from "./errors.ts";
import { verifyIdToken } from "./identity.ts";
import { authorizationServer, exchangeCode } from "./oauth.ts";
import { openClient, sealTokenSet } from "./tokens.ts";
import type { Caller, ConnectedAccount, ConnectorRecord } from "./types.ts";

export const LEGACY_DEFAULT_CONNECTOR = "googleWorkspace";

/** A validated legacy request: the popup's code and the connector it is for. */
export interface LegacyRequest {
  code: string;
  connectorId: string;
}

/** Reads PipesHub's body: `code` (or `tempCode`) and an optional `connectorId`; invalid_request else. */
export function parseLegacyRequest(body: unknown): LegacyRequest {
  const input = (body && typeof body === "object" ? body : {}) as Record<string, unknown>;
  const code = input.code ?? input.tempCode;
  if (typeof code !== "string" || !code)
    throw fail("invalid_request", "The body must carry an authorization code");
  const connectorId = input.connectorId ?? LEGACY_DEFAULT_CONNECTOR;
  if (typeof connectorId !== "string") throw fail("invalid_request", "connectorId must be a string");
  return { code, connectorId };
}

async function exchangeOnce(run: () => Promise<oauth.TokenEndpointResponse>) {
  try {
    return await run();
  } catch (error) {
    if (error instanceof oauth.ResponseBodyError && error.error === "invalid_grant") {
      throw fail("invalid_grant", "Google rejected the authorization code", error);
    }
    throw fail("provider_error", "The token exchange with Google failed", error);
  }
}

function assertSameAccount(caller: Caller, claims: JWTPayload) {
  if (!caller.email) return;
  const email = typeof claims.email === "string" ? claims.email.toLowerCase() : undefined;
  if (claims.email_verified !== true || email !== caller.email.toLowerCase()) {
    throw fail("account_mismatch", "The Google account does not match your account");
  }
}

/** The Google account of a verified id_token (OpenID Connect standard claims). */
function googleAccount(claims: JWTPayload): ConnectedAccount | undefined {
  if (typeof claims.sub !== "string") return undefined;
  const account: ConnectedAccount = { id: claims.sub };
  if (typeof claims.email === "string") {
    account.email = claims.email;
    account.emailVerified = claims.email_verified === true;
  }
  return account;
}

/** The Google account of the response's id_token, verified and matched to the caller; undefined
 * when Google sent no id_token. */
async function consentingAccount(
  provider: ResolvedProvider,
  clientId: string,
  caller: Caller,
  response: oauth.TokenEndpointResponse,
): Promise<ConnectedAccount | undefined> {
  if (typeof response.id_token !== "string") return undefined;
  if (!provider.jwksUrl || !provider.issuer)
    throw fail("oauth_not_configured", "No JWKS to verify id_tokens");
  const claims = await verifyIdToken(response.id_token, provider.jwksUrl, provider.issuer, clientId);
  assertSameAccount(caller, claims);
  return googleAccount(claims);
}

/** The legacy endpoint is for org admins: checked before the body is read. */
export function assertAdmin(caller: Caller): void {
  if (!caller.isAdmin) throw fail("forbidden", "Only organization admins can do this");
}

/** Exchanges a Google authorization code for an admin, stores the tokens, returns the connector. */
export async function connectLegacy(
  deps: ConnectDeps,
  caller: Caller,
  request: LegacyRequest,
): Promise<ConnectorRecord> {
  assertAdmin(caller);
  // The same budget as the callback's: what is left of it after the exchange bounds the retries.
  const deadline = deps.now() + deps.timing.budgetMs;
  const { code, connectorId } = request;
  const connector = await loadConnector(deps.connectors, { orgId: caller.orgId, connectorId });
  // The same rule as the connect flow: a personal connector is its creator's, admins included.
  assertCanConnect(caller, connector);
  if (providerEntry(connector, deps.catalog.catalog).family !== "google") {
    throw fail("not_oauth_connector", "This connector is not a Google connector");
  }
  const provider = resolveProvider(connector, deps.catalog);
  const client = await openClient(deps.dataKeys, connector);
  const params = oauth.validateAuthResponse(
    authorizationServer(provider),
    { client_id: connector.clientId },
    new URLSearchParams({ code }),
  );
  const timeoutMs = deps.timing.exchangeMs;
  const options = { allowLoopbackHttp: deps.catalog.allowLoopbackHttp, fetch: deps.fetch, timeoutMs };
  const redirectUri = connector.redirectUri ?? "postmessage";
  const response = await exchangeOnce(() =>
    exchangeCode(provider, client, params, redirectUri, undefined, options),
  );
  const connectedAccount = await consentingAccount(provider, connector.clientId, caller, response);
  const owner = { orgId: connector.orgId, connectorId };
  // The code is spent: sealing and storing the tokens is retried within the budget, as at the
  // callback (a lost reply is recognised by saveTokens itself).
  const saved = await withinBudget(deps, deadline, async () => {
    const sealed = await sealTokenSet(deps.dataKeys, connector, response, provider.scopes, deps.now());
    return deps.connectors.saveTokens({
      ...owner,
      clientId: connector.clientId,
      tokens: { ...sealed, connectedAccount },
      by: caller.userId,
      now: deps.now(),
    });
  });
  deps.log.info("connector authenticated (legacy code exchange)", owner);
  return saved;
}
