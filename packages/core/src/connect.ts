/**
 * The connect flow: start (authorize endpoint) and complete (callback endpoint).
 * Order of checks on the callback: duplicated parameters, state structure and MAC (no storage or
 * provider touched before), the bound return origin still configured, expiry (checked here, not left to DynamoDB TTL), single-use consumption
 * (one conditional write), then the relay's bearer (must be the initiator, identity.ts), the
 * provider's response (iss, iss.ts; error), the code exchange with the flow's PKCE verifier, the
 * consenting account (personal connectors: the initiator's), sealing and storing the tokens, and
 * recording the outcome for replays.
 */
import * as oauth from "oauth4webapi";
import { type CatalogOptions, resolveProvider } from "./catalog.ts";
import {
  assertCanConnect,
  type Caller,
  type ConnectedAccount,
  type ConnectorRecord,
  loadOwnConnector,
} from "./connectors.ts";
import { type CallbackErrorCode, describeError, fail, type Log } from "./errors.ts";
import { type FlowOutcome, type FlowRecord, flowBinding, openVerifier, sealVerifier } from "./flows.ts";
import { identifyAccount, isInitiator, mayConnectAs } from "./identity.ts";
import { issAccepted } from "./iss.ts";
import { buildAuthorizationUrl, createPkce, exchangeCode, validateCallback } from "./oauth.ts";
import type { ConnectorStore, DataKeys, FlowStore, StateMac } from "./ports.ts";
import { issueState, STATE_LIFETIME_SECONDS, type VerifiedState, verifyState } from "./state.ts";
import { openClientSecret, sealTokenSet } from "./tokens.ts";

export interface ConnectSettings {
  /** Exact app origins the browser may return to; the first is the default. */
  appOrigins: string[];
  /** `<public API URL>/connectors/oauth/callback`, identical in authorization and token requests. */
  redirectUri: string;
  /** Path on the app origin after success; `{connectorId}` is replaced. */
  successPath: string;
  /** Path on the app origin after a failure; `oauth_error` and `connectorId` are appended. */
  errorPath: string;
  /** Accept relayed callbacks without `iss` when they carry the initiator's bearer (iss.ts). */
  acceptRelayWithoutIss?: boolean;
}

export interface ConnectDeps {
  connectors: ConnectorStore;
  flows: FlowStore;
  stateMac: StateMac;
  dataKeys: DataKeys;
  catalog: CatalogOptions;
  settings: ConnectSettings;
  now: () => number;
  log: Log;
  fetch?: typeof fetch;
}

export interface CallbackOutcome {
  ok: boolean;
  connectorId: string;
  redirectUrl: string;
  error?: CallbackErrorCode;
  connectedAccount?: ConnectedAccount;
}

/** What the callback knows beyond its query: the relay's verified bearer, when it sent one. */
export interface CallbackContext {
  caller?: Caller;
}

const REPLAY_WAIT_MS = 5_000;
const REPLAY_POLL_MS = 100;

/** Picks the return origin: an exact allowlisted origin (a trailing slash is tolerated), else 400. */
export function chooseReturnOrigin(appOrigins: string[], baseUrl: string | undefined): string {
  if (baseUrl === undefined || baseUrl === "") return appOrigins[0] as string;
  const match = appOrigins.find((origin) => baseUrl === origin || baseUrl === `${origin}/`);
  if (!match) throw fail("invalid_base_url", "baseUrl is not an allowed app origin");
  return match;
}

/**
 * The origin bound in a verified state must still be configured: an origin removed since (or one
 * that is not an origin at all) receives no redirect, not even state_expired; the 400 page instead.
 */
export function assertReturnOrigin(appOrigins: string[], returnOrigin: string): void {
  if (!appOrigins.includes(returnOrigin)) {
    throw fail("invalid_state", "The app this sign-in would return to is no longer allowed.");
  }
}

/** Starts a flow for the caller's connector: signed state, server-side PKCE, provider URL. */
export async function startConnect(deps: ConnectDeps, caller: Caller, connectorId: string, baseUrl?: string) {
  const connector = await loadOwnConnector(deps.connectors, caller, connectorId);
  assertCanConnect(caller, connector);
  const returnOrigin = chooseReturnOrigin(deps.settings.appOrigins, baseUrl);
  const provider = resolveProvider(connector, deps.catalog);
  if (!connector.clientId) throw fail("oauth_not_configured", "The connector has no OAuth client configured");
  const now = deps.now();
  const issuedAt = Math.floor(now / 1000);
  const nonce = oauth.generateRandomState();
  const pkce = provider.pkce ? await createPkce() : undefined;
  const { state, mac } = await issueState(deps.stateMac, {
    ...{ connectorId, orgId: caller.orgId, userId: caller.userId, provider: connector.provider },
    ...{ nonce, returnOrigin, issuedAt, expiresAt: issuedAt + STATE_LIFETIME_SECONDS },
  });
  const bound = { connector: configOf(connector), initiatorEmail: caller.email };
  await deps.flows.create({
    ...{ nonce, orgId: caller.orgId, connectorId, userId: caller.userId, provider: connector.provider },
    ...{ returnOrigin, status: "pending", ...bound },
    verifier: await sealVerifier(mac, nonce, pkce?.verifier ?? "", await flowBinding(bound)),
    createdAt: now,
    expiresAt: (issuedAt + STATE_LIFETIME_SECONDS) * 1000,
  });
  const codeChallenge = pkce?.challenge;
  const authorizationUrl = buildAuthorizationUrl(provider, {
    ...{ clientId: connector.clientId, redirectUri: deps.settings.redirectUri, state, codeChallenge },
  });
  return { authorizationUrl, state };
}

function configOf(connector: ConnectorRecord) {
  const {
    tokens: _t,
    status: _s,
    version: _v,
    createdAt: _c,
    updatedAt: _u,
    lastUpdatedBy: _l,
    ...config
  } = connector;
  return config;
}

/** Completes a flow from the provider's redirect; throws invalid_state when nothing can be trusted. */
export async function completeConnect(
  deps: ConnectDeps,
  params: URLSearchParams,
  context: CallbackContext = {},
): Promise<CallbackOutcome> {
  for (const name of ["state", "code", "iss", "error"]) {
    if (params.getAll(name).length > 1)
      throw fail("invalid_request", `The "${name}" parameter appears more than once`);
  }
  const state = params.get("state");
  if (!state)
    throw fail("invalid_state", "The sign-in response has no state. Start connecting again from the app.");
  const verified = await verifyState(deps.stateMac, state);
  const { claims } = verified;
  assertReturnOrigin(deps.settings.appOrigins, claims.returnOrigin);
  const now = deps.now();
  if (now >= claims.expiresAt * 1000)
    return outcomeFor(deps, claims, await expiredOutcome(deps, claims.nonce));
  const consumed = await deps.flows.consume(claims.nonce, now);
  if (consumed.status === "missing")
    throw fail("invalid_state", "This sign-in is unknown. Start connecting again from the app.");
  if (consumed.status === "already") return outcomeFor(deps, claims, await awaitOutcome(deps, consumed.flow));
  const outcome = await settleFlow(deps, consumed.flow, verified, params, state, context);
  await deps.flows.finish(claims.nonce, outcome, deps.now());
  return outcomeFor(deps, claims, outcome);
}

async function settleFlow(
  deps: ConnectDeps,
  flow: FlowRecord,
  verified: VerifiedState,
  params: URLSearchParams,
  state: string,
  context: CallbackContext,
): Promise<FlowOutcome> {
  try {
    return await exchangeAndStore(deps, flow, verified, params, state, context);
  } catch (error) {
    deps.log.error("callback failed", {
      connectorId: flow.connectorId,
      orgId: flow.orgId,
      ...describeError(error),
    });
    return { status: "failed", error: "server_error" };
  }
}

async function exchangeAndStore(
  deps: ConnectDeps,
  flow: FlowRecord,
  verified: VerifiedState,
  params: URLSearchParams,
  state: string,
  context: CallbackContext,
): Promise<FlowOutcome> {
  const { claims } = verified;
  const connector = flow.connector;
  if (
    flow.orgId !== claims.orgId ||
    flow.connectorId !== claims.connectorId ||
    flow.userId !== claims.userId
  ) {
    return { status: "failed", error: "server_error" };
  }
  const ids = { orgId: flow.orgId, connectorId: flow.connectorId };
  if (!isInitiator(flow, context.caller)) {
    deps.log.warn("callback relayed with another user's bearer token", ids);
    return { status: "failed", error: "account_mismatch" };
  }
  const provider = resolveProvider(connector, deps.catalog);
  const issContext = {
    ...{ acceptRelayWithoutIss: deps.settings.acceptRelayWithoutIss === true, log: deps.log, ids },
    initiatorBearer: context.caller !== undefined,
  };
  if (!issAccepted(provider, params.get("iss"), issContext))
    return { status: "failed", error: "iss_mismatch" };
  let validated: URLSearchParams;
  try {
    validated = validateCallback(provider, connector.clientId, params, state);
  } catch (error) {
    const denied = error instanceof oauth.AuthorizationResponseError && error.error === "access_denied";
    const providerError = error instanceof oauth.AuthorizationResponseError;
    deps.log.warn("provider returned no code", { connectorId: flow.connectorId, ...describeError(error) });
    return {
      status: "failed",
      error: denied ? "access_denied" : providerError ? "provider_error" : "invalid_request",
    };
  }
  const owner = { orgId: flow.orgId, connectorId: flow.connectorId };
  // Fails (server_error, nothing sent) when the snapshot or initiator email was changed in the table.
  const binding = await flowBinding(flow);
  const verifier = (await openVerifier(verified.mac, flow.nonce, flow.verifier ?? "", binding)) || undefined;
  const clientSecret = await openClientSecret(deps.dataKeys, connector);
  let response: oauth.TokenEndpointResponse;
  try {
    const client = { clientId: connector.clientId, clientSecret };
    const options = { allowLoopbackHttp: deps.catalog.allowLoopbackHttp, fetch: deps.fetch };
    response = await exchangeCode(provider, client, validated, deps.settings.redirectUri, verifier, options);
  } catch (error) {
    deps.log.warn("token exchange failed", { connectorId: flow.connectorId, ...describeError(error) });
    return { status: "failed", error: "token_exchange_failed" };
  }
  const identityContext = {
    clientId: connector.clientId,
    connectorId: flow.connectorId,
    log: deps.log,
    fetch: deps.fetch,
  };
  const connectedAccount = await identifyAccount(provider, response, identityContext);
  if (!mayConnectAs(connector, flow, connectedAccount)) {
    deps.log.warn("consenting account is not the initiator of a personal connector", ids);
    return { status: "failed", error: "account_mismatch" };
  }
  const sealed = await sealTokenSet(deps.dataKeys, connector, response, provider.scopes, deps.now());
  const tokens = { ...sealed, connectedAccount };
  await deps.connectors.saveTokens({
    ...owner,
    clientId: connector.clientId,
    tokens,
    by: flow.userId,
    now: deps.now(),
  });
  deps.log.info("connector authenticated", { ...owner, provider: flow.provider });
  return { status: "succeeded", connectedAccount };
}

/** An expired state: a flow that already finished keeps its outcome; anything else is state_expired. */
async function expiredOutcome(deps: ConnectDeps, nonce: string): Promise<FlowOutcome> {
  const flow = await deps.flows.get(nonce);
  if (flow?.status === "succeeded") return { status: "succeeded" };
  if (flow?.status === "failed") return { status: "failed", error: flow.error ?? "server_error" };
  return { status: "failed", error: "state_expired" };
}

/** A repeated callback: wait briefly for the first one to finish, then answer with its outcome. */
async function awaitOutcome(deps: ConnectDeps, flow: FlowRecord): Promise<FlowOutcome> {
  const deadline = Date.now() + REPLAY_WAIT_MS;
  let current: FlowRecord | undefined = flow;
  while (current?.status === "exchanging" && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, REPLAY_POLL_MS));
    current = await deps.flows.get(flow.nonce);
  }
  if (current?.status === "succeeded") return { status: "succeeded" };
  return {
    status: "failed",
    error: current?.status === "failed" ? (current.error ?? "server_error") : "server_error",
  };
}

function outcomeFor(
  deps: ConnectDeps,
  claims: { connectorId: string; returnOrigin: string },
  outcome: FlowOutcome,
): CallbackOutcome {
  const { connectorId, returnOrigin } = claims;
  if (outcome.status === "succeeded") {
    const path = deps.settings.successPath.replaceAll("{connectorId}", encodeURIComponent(connectorId));
    const { connectedAccount } = outcome;
    return { ok: true, connectorId, redirectUrl: onOrigin(returnOrigin, path).href, connectedAccount };
  }
  const error = outcome.error ?? "server_error";
  const url = onOrigin(returnOrigin, deps.settings.errorPath);
  url.searchParams.set("oauth_error", error);
  url.searchParams.set("connectorId", connectorId);
  return { ok: false, connectorId, error, redirectUrl: url.href };
}

/** Appends a configured path to the bound origin; a path that would leave the origin is a bug. */
function onOrigin(origin: string, path: string): URL {
  const url = new URL(`${origin}${path}`);
  if (url.origin !== origin) throw fail("internal_error", "A configured app path leaves the app origin");
  return url;
}
