/**
 * The connect flow: start (authorize endpoint) and complete (callback endpoint).
 * Order of checks on the callback: duplicated parameters, state structure and MAC (no storage or
 * provider touched before), the bound return origin still configured, expiry (checked here, not
 * left to DynamoDB TTL), the flow read, the relay's bearer (must be the initiator, identity.ts), the
 * provider's response (iss, iss.ts; error), opening the PKCE verifier (bound to the flow's snapshot)
 * and client secret, single-use consumption (one conditional write), the code exchange, the
 * consenting account (personal connectors: the initiator's), sealing and storing the tokens, and
 * recording the outcome for replays.
 *
 * Exactly once, also under faults (SPEC section 3; docs/reliability.md):
 * - everything that can fail transiently before the code is redeemed (KMS, DynamoDB reads) runs
 *   before the flow is consumed, so such a failure leaves it pending and the same callback works;
 * - the callback keeps to a time budget inside the function timeout: the exchange has a deadline and
 *   time is kept back to record the outcome;
 * - once the provider issued tokens, sealing and storing them is retried within the budget;
 * - tokens are stored (tagged with the flow) before the flow's outcome, and a repeated callback
 *   that finds the flow still `exchanging` reports the stored tokens; a flow whose holder died is
 *   settled after its lease.
 */
import * as oauth from "oauth4webapi";
import { type CatalogOptions, type ResolvedProvider, resolveProvider } from "./catalog.ts";
import { assertCanConnect, connectorConfig, loadConnector } from "./connectors.ts";
import { type CallbackErrorCode, describeError, fail, isServiceError, type Log } from "./errors.ts";
import {
  DEFAULT_MAX_PENDING_FLOWS,
  FLOW_LEASE_MS,
  flowBinding,
  openVerifier,
  sealVerifier,
} from "./flows.ts";
import { identifyAccount, isInitiator, mayConnectAs, mustIdentify } from "./identity.ts";
import { issAccepted } from "./iss.ts";
import { revokeToken, type TokenToRevoke } from "./lifecycle/provider-calls.ts";
import {
  buildAuthorizationUrl,
  type ClientCredentials,
  createPkce,
  exchangeCode,
  validateCallback,
} from "./oauth.ts";
import type { ConnectorStore, DataKeys, FlowStore, StateMac } from "./ports.ts";
import { issueState, STATE_LIFETIME_SECONDS, type VerifiedState, verifyState } from "./state.ts";
import { openClient, sealTokenSet } from "./tokens.ts";
import type { Caller, ConnectedAccount, FlowOutcome, FlowRecord } from "./types.ts";

export interface ConnectSettings {
  /** Exact app origins the browser may return to; the first is the default. */
  appOrigins: string[];
  /** `<public API URL>/connectors/oauth/callback`, identical in authorization and token requests. */
  redirectUri: string;
  /** Path on the app origin after success; `{connectorId}` is replaced. */
  successPath: string;
  /** Path on the app origin after a failure; `oauth_error` and `connectorId` are appended. */
  errorPath: string;
  /** Pending flows one user may hold (default DEFAULT_MAX_PENDING_FLOWS). */
  maxPendingFlows?: number;
  /** Accept relayed callbacks without `iss` when they carry the initiator's bearer (iss.ts). */
  acceptRelayWithoutIss?: boolean;
}

/** Time limits of a callback, in milliseconds. */
export interface ConnectTiming {
  /** The whole callback: well inside the function timeout (15 s, stacks/api.ts). */
  budgetMs: number;
  /** The code exchange at the provider (also the legacy endpoint's). */
  exchangeMs: number;
  /** One AWS call with all its SDK attempts: kept back after the exchange to record the outcome. */
  awsCallMs: number;
  /** How long a consumed flow belongs to its callback before it counts as abandoned. */
  leaseMs: number;
  /** How long a repeated callback waits for the first one to finish. */
  replayWaitMs: number;
}

/** 2 s per AWS attempt, 2 attempts (functions/src/edge/aws-clients.ts): 4 s plus up to 1 s backoff. */
export const DEFAULT_CONNECT_TIMING: ConnectTiming = {
  budgetMs: 13_000,
  exchangeMs: 8_000,
  awsCallMs: 5_000,
  leaseMs: FLOW_LEASE_MS,
  replayWaitMs: 5_000,
};

export interface ConnectDeps {
  connectors: ConnectorStore;
  flows: FlowStore;
  stateMac: StateMac;
  dataKeys: DataKeys;
  catalog: CatalogOptions;
  settings: ConnectSettings;
  timing: ConnectTiming;
  now: () => number;
  sleep: (ms: number) => Promise<void>;
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

const REPLAY_POLL_MS = 100;
/** Below this much time for the exchange, the callback does not consume the flow (it stays pending). */
const MIN_EXCHANGE_MS = 1_000;
/** Pause between attempts to seal and store issued tokens. */
const STORE_RETRY_MS = 200;

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
  const connector = await loadConnector(deps.connectors, { orgId: caller.orgId, connectorId });
  assertCanConnect(caller, connector);
  const returnOrigin = chooseReturnOrigin(deps.settings.appOrigins, baseUrl);
  const provider = resolveProvider(connector, deps.catalog);
  if (!connector.clientId) throw fail("oauth_not_configured", "The connector has no OAuth client configured");
  const now = deps.now();
  const issuedAt = Math.floor(now / 1000);
  const nonce = oauth.generateRandomState();
  const pkce = provider.pkce ? await createPkce() : undefined;
  const expiresAt = issuedAt + STATE_LIFETIME_SECONDS;
  const ids = { connectorId, orgId: caller.orgId, userId: caller.userId, provider: connector.provider };
  const { state, mac } = await issueState(deps.stateMac, {
    ...ids,
    nonce,
    returnOrigin,
    issuedAt,
    expiresAt,
  });
  const maxPending = deps.settings.maxPendingFlows ?? DEFAULT_MAX_PENDING_FLOWS;
  const bound = { connector: connectorConfig(connector), initiatorEmail: caller.email };
  const flow: FlowRecord = {
    ...ids,
    ...bound,
    nonce,
    returnOrigin,
    status: "pending",
    verifier: await sealVerifier(mac, nonce, pkce?.verifier ?? "", await flowBinding(bound)),
    createdAt: now,
    expiresAt: expiresAt * 1000,
  };
  await deps.flows.create(flow, { maxPending, now });
  const authorizationUrl = buildAuthorizationUrl(provider, {
    clientId: connector.clientId,
    redirectUri: deps.settings.redirectUri,
    state,
    codeChallenge: pkce?.challenge,
  });
  return { authorizationUrl, state };
}

/** Completes a flow from the provider's redirect; throws invalid_state when nothing can be trusted. */
export async function completeConnect(
  deps: ConnectDeps,
  params: URLSearchParams,
  context: CallbackContext = {},
): Promise<CallbackOutcome> {
  const deadline = deps.now() + deps.timing.budgetMs;
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
    return replayOutcome(deps, claims, await expiredOutcome(deps, claims.nonce));
  const flow = await deps.flows.get(claims.nonce);
  if (!flow) throw unknownFlow();
  if (flow.status !== "pending") return replayOutcome(deps, claims, await awaitOutcome(deps, flow));
  // Everything that can fail transiently before the code is redeemed happens before the flow is
  // consumed: a failure throws (503) and leaves it pending, so the same callback works again.
  const prepared = await prepareExchange(deps, flow, verified, { params, state, caller: context.caller });
  if (deadline - deps.now() - deps.timing.awsCallMs < MIN_EXCHANGE_MS)
    throw fail("dependency_unavailable", "The service is slow right now; try again");
  const holder = crypto.randomUUID();
  const consumed = await consumeFlow(deps, flow, holder);
  if (consumed.status === "missing") throw unknownFlow();
  if (consumed.status === "already")
    return replayOutcome(deps, claims, await awaitOutcome(deps, consumed.flow));
  const held: HeldFlow = { deps, flow: consumed.flow, holder, deadline };
  const outcome = "params" in prepared ? await settleFlow(held, prepared) : prepared;
  return outcomeFor(deps, claims, await finishFlow(held, outcome));
}

const unknownFlow = () =>
  fail("invalid_state", "This sign-in is unknown. Start connecting again from the app.");

/** The provider's redirect as received: its query, its state, and the relay's verified bearer. */
interface ProviderResponse {
  params: URLSearchParams;
  state: string;
  caller?: Caller;
}

/** What the exchange needs besides the validated response: the flow's PKCE verifier and client. */
interface Exchange {
  params: URLSearchParams;
  verifier?: string;
  client: ClientCredentials;
}

/** Before the flow is consumed: the provider's response checked and the flow's secrets opened, or
 * the final outcome that makes an exchange pointless. */
async function prepareExchange(
  deps: ConnectDeps,
  flow: FlowRecord,
  verified: VerifiedState,
  response: ProviderResponse,
): Promise<Exchange | FlowOutcome> {
  const checked = checkResponse(deps, flow, verified, response);
  if (!(checked instanceof URLSearchParams)) return checked;
  const secrets = await openFlowSecrets(deps, flow, verified);
  return "status" in secrets ? secrets : { params: checked, ...secrets };
}

/** The provider's response against the flow: a final outcome, or the parameters to exchange. */
function checkResponse(
  deps: ConnectDeps,
  flow: FlowRecord,
  verified: VerifiedState,
  { params, state, caller }: ProviderResponse,
): FlowOutcome | URLSearchParams {
  const { claims } = verified;
  if (
    flow.orgId !== claims.orgId ||
    flow.connectorId !== claims.connectorId ||
    flow.userId !== claims.userId
  ) {
    return { status: "failed", error: "server_error" };
  }
  const ids = flowIds(flow);
  if (!isInitiator(flow, caller)) {
    deps.log.warn("callback relayed with another user's bearer token", ids);
    return { status: "failed", error: "account_mismatch" };
  }
  const provider = resolveProvider(flow.connector, deps.catalog);
  const issContext = {
    acceptRelayWithoutIss: deps.settings.acceptRelayWithoutIss === true,
    initiatorBearer: caller !== undefined,
    log: deps.log,
    ids,
  };
  if (!issAccepted(provider, params.get("iss"), issContext))
    return { status: "failed", error: "iss_mismatch" };
  try {
    return validateCallback(provider, flow.connector.clientId, params, state);
  } catch (error) {
    const denied = error instanceof oauth.AuthorizationResponseError && error.error === "access_denied";
    const providerError = error instanceof oauth.AuthorizationResponseError;
    deps.log.warn("provider returned no code", { connectorId: flow.connectorId, ...describeError(error) });
    return {
      status: "failed",
      error: denied ? "access_denied" : providerError ? "provider_error" : "invalid_request",
    };
  }
}

/**
 * Opens the flow's PKCE verifier and the connector's client secret (KMS Decrypt). A verifier that
 * does not open means the flow's snapshot or initiator was changed in the table: a final
 * server_error, no code sent. A failing KMS throws (503) and leaves the flow pending.
 */
async function openFlowSecrets(
  deps: ConnectDeps,
  flow: FlowRecord,
  verified: VerifiedState,
): Promise<Omit<Exchange, "params"> | FlowOutcome> {
  let verifier: string | undefined;
  try {
    verifier =
      (await openVerifier(verified.mac, flow.nonce, flow.verifier ?? "", await flowBinding(flow))) ||
      undefined;
  } catch (error) {
    deps.log.error("flow record does not match its seal", { ...flowIds(flow), ...describeError(error) });
    return { status: "failed", error: "server_error" };
  }
  return { verifier, client: await openClient(deps.dataKeys, flow.connector) };
}

/** Consumes the flow for `holder`. When that fails without an answer, the write may still have been
 * applied: hand the flow back (its code was not sent), so it stays retryable. */
async function consumeFlow(deps: ConnectDeps, flow: FlowRecord, holder: string) {
  try {
    return await deps.flows.consume(flow.nonce, holder, deps.now(), deps.timing.leaseMs);
  } catch (error) {
    await deps.flows.release(flow, holder).catch((releaseError: unknown) => {
      deps.log.warn("handing back the flow failed", describeError(releaseError));
    });
    throw error;
  }
}

/** The ids a flow's log lines carry. */
function flowIds(flow: FlowRecord) {
  return { orgId: flow.orgId, connectorId: flow.connectorId };
}

/** A flow this callback consumed: what every step after consumption works on. */
interface HeldFlow {
  deps: ConnectDeps;
  flow: FlowRecord;
  /** This callback's id as the flow's holder. */
  holder: string;
  /** When the callback's budget ends (milliseconds since the epoch). */
  deadline: number;
}

/** A held flow on its way from code to tokens, with its provider resolved. */
interface Redemption extends HeldFlow {
  provider: ResolvedProvider;
}

/** Redeems the code; any unexpected failure becomes a final server_error (the code may be spent). */
async function settleFlow(held: HeldFlow, exchange: Exchange): Promise<FlowOutcome> {
  const { deps, flow } = held;
  try {
    const provider = resolveProvider(flow.connector, deps.catalog);
    return await redeem({ ...held, provider }, exchange);
  } catch (error) {
    deps.log.error("callback failed", { ...flowIds(flow), ...describeError(error) });
    return { status: "failed", error: "server_error" };
  }
}

/** Exchange, consenting account, stored tokens: each step may end the flow with its outcome. */
async function redeem(redemption: Redemption, exchange: Exchange): Promise<FlowOutcome> {
  const { deps, flow } = redemption;
  const response = await exchangeForTokens(redemption, exchange);
  if (!response) return { status: "failed", error: "token_exchange_failed" };
  const { account: connectedAccount, unreadable } = await identifyConsenter(redemption, response);
  if (unreadable && mustIdentify(flow.connector, flow)) {
    deps.log.warn("consenting account of a personal connector could not be read", flowIds(flow));
    await revokeUnwanted(redemption, exchange, response, "an unidentified consent");
    return { status: "failed", error: "provider_error" };
  }
  if (!mayConnectAs(flow.connector, flow, connectedAccount)) {
    deps.log.warn("consenting account is not the initiator of a personal connector", flowIds(flow));
    await revokeUnwanted(redemption, exchange, response, "a mismatched consent");
    return { status: "failed", error: "account_mismatch" };
  }
  await storeTokens(redemption, response, connectedAccount);
  deps.log.info("connector authenticated", { ...flowIds(flow), provider: flow.provider });
  return { status: "succeeded", connectedAccount };
}

/**
 * Tokens issued for an account that may not connect this connector (or, on a personal connector,
 * for an account that could not be read) are never stored; they are also revoked at the provider
 * where the catalog can (one attempt, within what the budget leaves), so the colleague's grant does
 * not stay live at the provider. Best effort: the flow's outcome is the same either way, and a
 * failure is only logged.
 */
async function revokeUnwanted(
  redemption: Redemption,
  exchange: Exchange,
  response: oauth.TokenEndpointResponse,
  /** What the logs call it. */
  what: "a mismatched consent" | "an unidentified consent",
): Promise<void> {
  const { deps, flow, provider } = redemption;
  const token: TokenToRevoke | undefined = response.refresh_token
    ? { value: response.refresh_token, hint: "refresh_token" }
    : response.access_token
      ? { value: response.access_token, hint: "access_token" }
      : undefined;
  const timeoutMs = providerTimeMs(redemption);
  if (!provider.revocationUrl || !token || timeoutMs <= 0) return;
  const options = { allowLoopbackHttp: deps.catalog.allowLoopbackHttp, fetch: deps.fetch, timeoutMs };
  try {
    await revokeToken(provider, exchange.client, token, options);
    deps.log.info(`revoked the tokens of ${what}`, flowIds(flow));
  } catch (error) {
    deps.log.warn(`revocation of ${what} failed`, { ...flowIds(flow), ...describeError(error) });
  }
}

/** What the budget leaves for a provider call after keeping one AWS call's worth back for storing
 * the tokens, so a slow provider cannot push the callback past its timeout. */
function providerTimeMs({ deps, deadline }: Redemption): number {
  return deadline - deps.now() - deps.timing.awsCallMs;
}

/** The code exchange at the provider; undefined when it failed (logged without the response). */
async function exchangeForTokens(
  redemption: Redemption,
  exchange: Exchange,
): Promise<oauth.TokenEndpointResponse | undefined> {
  const { deps, flow, provider } = redemption;
  const timeoutMs = Math.min(deps.timing.exchangeMs, providerTimeMs(redemption));
  const options = { allowLoopbackHttp: deps.catalog.allowLoopbackHttp, fetch: deps.fetch, timeoutMs };
  const { client, params, verifier } = exchange;
  try {
    return await exchangeCode(provider, client, params, deps.settings.redirectUri, verifier, options);
  } catch (error) {
    deps.log.warn("token exchange failed", { connectorId: flow.connectorId, ...describeError(error) });
    return undefined;
  }
}

/** Who consented, when the provider tells (identity.ts), within what the budget leaves. */
function identifyConsenter(redemption: Redemption, response: oauth.TokenEndpointResponse) {
  const { deps, flow, provider } = redemption;
  return identifyAccount(provider, response, {
    clientId: flow.connector.clientId,
    connectorId: flow.connectorId,
    log: deps.log,
    fetch: deps.fetch,
    timeoutMs: providerTimeMs(redemption),
  });
}

/** The code is spent: sealing and storing the issued tokens is retried within the budget. */
async function storeTokens(
  { deps, flow, provider, deadline }: Redemption,
  response: oauth.TokenEndpointResponse,
  connectedAccount: ConnectedAccount | undefined,
): Promise<void> {
  await withinBudget(deps, deadline, async () => {
    const sealed = await sealTokenSet(deps.dataKeys, flow.connector, response, provider.scopes, deps.now());
    await deps.connectors.saveTokens({
      ...flowIds(flow),
      clientId: flow.connector.clientId,
      tokens: { ...sealed, connectedAccount },
      by: flow.userId,
      now: deps.now(),
      flow: flow.nonce,
    });
  });
}

/** Runs `step` again after a dependency failure while another attempt fits before `deadline`. The
 * legacy exchange (legacy.ts) stores its spent code's tokens through it too. */
export async function withinBudget<T>(
  deps: ConnectDeps,
  deadline: number,
  step: () => Promise<T>,
): Promise<T> {
  for (;;) {
    try {
      return await step();
    } catch (error) {
      const fits = deps.now() + STORE_RETRY_MS + deps.timing.awsCallMs <= deadline;
      if (!isServiceError(error, "dependency_unavailable") || !fits) throw error;
      deps.log.warn("a step after the exchange failed; retrying", describeError(error));
      await deps.sleep(STORE_RETRY_MS);
    }
  }
}

/** Records the holder's outcome, retried within the budget. A success is answered even when this
 * write fails: the tokens are stored and tagged with the flow, so a repeated callback finds them. */
async function finishFlow({ deps, flow, holder, deadline }: HeldFlow, outcome: FlowOutcome) {
  try {
    let finished = false;
    await withinBudget(deps, deadline, async () => {
      finished = await deps.flows.finish(flow.nonce, outcome, deps.now(), { holder });
    });
    if (finished) return outcome;
    const current = await deps.flows.get(flow.nonce);
    return current ? (finalOutcome(current) ?? outcome) : outcome;
  } catch (error) {
    deps.log.warn("recording the flow's outcome failed", describeError(error));
    return outcome;
  }
}

function finalOutcome(flow: FlowRecord): FlowOutcome | undefined {
  if (flow.status === "succeeded") return { status: "succeeded" };
  if (flow.status === "failed") return { status: "failed", error: flow.error ?? "server_error" };
  return undefined;
}

/** An expired state: a flow that already finished keeps its outcome; anything else is state_expired. */
async function expiredOutcome(deps: ConnectDeps, nonce: string): Promise<FlowOutcome> {
  const flow = await deps.flows.get(nonce);
  if (flow?.status === "exchanging") return awaitOutcome(deps, flow);
  return (flow && finalOutcome(flow)) ?? { status: "failed", error: "state_expired" };
}

/**
 * A repeated callback: answers with the first one's outcome, waiting briefly while it runs. A flow
 * still `exchanging` whose tokens are stored succeeded (its outcome write failed); one whose lease
 * ran out without stored tokens is settled as token_exchange_failed (its holder died, perhaps after
 * redeeming the code, which cannot be redeemed twice).
 */
async function awaitOutcome(deps: ConnectDeps, flow: FlowRecord): Promise<FlowOutcome> {
  const waitUntil = deps.now() + deps.timing.replayWaitMs;
  let current: FlowRecord | undefined = flow;
  while (current?.status === "exchanging") {
    const settled = await settleStuck(deps, current);
    if (settled) return settled;
    if (deps.now() >= waitUntil) return { status: "failed", error: "server_error" };
    await deps.sleep(REPLAY_POLL_MS);
    current = await deps.flows.get(flow.nonce);
  }
  return (current && finalOutcome(current)) ?? { status: "failed", error: "server_error" };
}

/** The truth about an `exchanging` flow, when it can be told without its holder; else undefined. */
async function settleStuck(deps: ConnectDeps, flow: FlowRecord): Promise<FlowOutcome | undefined> {
  const connector = await deps.connectors.get(flow.orgId, flow.connectorId);
  const stored = connector?.connectFlow === flow.nonce && connector.tokens !== undefined;
  const expired = flow.leaseUntil === undefined || deps.now() >= flow.leaseUntil;
  if (!stored && !expired) return undefined;
  // A success names the account its tokens were stored with (no second read for the answer).
  const outcome: FlowOutcome = stored
    ? { status: "succeeded", connectedAccount: connector.tokens?.connectedAccount }
    : { status: "failed", error: "token_exchange_failed" };
  const by = stored ? { tokensStored: true as const } : { leaseExpired: true as const };
  if (await deps.flows.finish(flow.nonce, outcome, deps.now(), by)) return outcome;
  const current = await deps.flows.get(flow.nonce);
  return (current && finalOutcome(current)) ?? outcome;
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

/**
 * A repeated callback's answer. Its success names the account the first one stored (the flow keeps
 * no account), read from the connector while its tokens are still this flow's; a failed read only
 * leaves the account out.
 */
async function replayOutcome(
  deps: ConnectDeps,
  claims: { orgId: string; connectorId: string; nonce: string; returnOrigin: string },
  outcome: FlowOutcome,
): Promise<CallbackOutcome> {
  if (outcome.status !== "succeeded" || outcome.connectedAccount) return outcomeFor(deps, claims, outcome);
  try {
    const connector = await deps.connectors.get(claims.orgId, claims.connectorId);
    const connectedAccount =
      connector?.connectFlow === claims.nonce ? connector.tokens?.connectedAccount : undefined;
    return outcomeFor(deps, claims, { ...outcome, connectedAccount });
  } catch (error) {
    deps.log.warn("reading the connected account for a repeated callback failed", describeError(error));
    return outcomeFor(deps, claims, outcome);
  }
}

/** Appends a configured path to the bound origin; a path that would leave the origin is a bug. */
function onOrigin(origin: string, path: string): URL {
  const url = new URL(`${origin}${path}`);
  if (url.origin !== origin) throw fail("internal_error", "A configured app path leaves the app origin");
  return url;
}
