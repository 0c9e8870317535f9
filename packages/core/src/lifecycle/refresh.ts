/**
 * Refreshing a connector's tokens, once per connector at a time across processes.
 *
 * A caller that needs new tokens takes the connector's lease (one conditional write), re-reads the
 * record (someone may have refreshed just before), asks the provider, and stores the new set with a
 * write conditioned on the version it read; then releases the lease. Callers that find the lease
 * taken poll the record until the new set appears, and take over once the lease is free or expired
 * (its holder crashed). A provider that rotates refresh tokens invalidates the old one on use, so a
 * second concurrent refresh would fail, and some providers then revoke the whole grant.
 */
import type * as oauth from "oauth4webapi";
import { resolveProvider } from "../catalog.ts";
import { loadConnector } from "../connectors.ts";
import { openField } from "../envelope.ts";
import { describeError, fail, isServiceError } from "../errors.ts";
import { openClient, sealTokenSet, tokensContext } from "../tokens.ts";
import type { ConnectorKey, ConnectorRecord, Sealed, StoredTokens } from "../types.ts";
import { assertAuthenticated, type LifecycleDeps, underLease } from "./context.ts";
import { type CallOutcome, callWithRetries, providerErrorCode, refreshGrant } from "./provider-calls.ts";

/** A record that satisfied the caller, with the access token in plaintext when this process refreshed. */
export interface Settled {
  record: ConnectorRecord;
  accessToken?: string;
}

export interface RefreshRequest {
  /** True once the record holds what the caller needs (then nothing is refreshed). */
  satisfied: (record: ConnectorRecord) => boolean;
  /** An explicit refresh: without a refresh token it fails instead of serving the current token. */
  force: boolean;
}

/** Brings the connector's tokens to what `request.satisfied` wants, refreshing at most once. */
export async function refreshUnderLease(
  deps: LifecycleDeps,
  key: ConnectorKey,
  request: RefreshRequest,
): Promise<Settled> {
  const deadline = deps.now() + deps.timing.waitMs;
  for (;;) {
    const held = await underLease(deps, key, async (leaseEnds) => {
      const current = await loadConnector(deps.connectors, key);
      return request.satisfied(current)
        ? { record: current }
        : refreshHeld(deps, current, leaseEnds, request);
    });
    if (held) return held.value;
    if (deps.now() >= deadline) {
      throw fail("token_refresh_failed", "Another process is still refreshing this connector's tokens");
    }
    await deps.sleep(deps.timing.pollMs);
    const current = await loadConnector(deps.connectors, key);
    if (request.satisfied(current)) return { record: current };
    assertAuthenticated(current);
  }
}

/** Runs while holding the lease that ends at `leaseEnds`. */
async function refreshHeld(
  deps: LifecycleDeps,
  current: ConnectorRecord,
  leaseEnds: number,
  request: RefreshRequest,
): Promise<Settled> {
  assertAuthenticated(current);
  const tokens = current.tokens as StoredTokens;
  if (!tokens.refresh) return withoutRefreshToken(deps, current, request.force);
  const provider = resolveProvider(current, deps.catalog);
  // Both secrets are opened before any request: under a changed configuration they do not open.
  const { client, refreshToken } = await openBound(deps, current, async () => ({
    client: await openClient(deps.dataKeys, current),
    refreshToken: await openField(
      deps.dataKeys,
      await tokensContext(current),
      "refresh",
      tokens.refresh as Sealed,
    ),
  }));
  const options = { allowLoopbackHttp: deps.catalog.allowLoopbackHttp };
  const outcome = await callWithRetries(
    (fetchImpl) => refreshGrant(provider, client, refreshToken, { ...options, fetch: fetchImpl }),
    {
      policy: deps.timing,
      sleep: deps.sleep,
      fetch: deps.fetch,
      // A retry must end before the lease does, or a second process could refresh at the same time.
      mayWait: (delayMs) => leaseEnds - deps.now() >= delayMs + deps.timing.attemptTimeoutMs,
    },
  );
  if (!outcome.ok) return refreshFailed(deps, current, outcome);
  const record = await storeRefreshed(deps, current, outcome.value);
  deps.log.info("tokens refreshed", {
    ...logKey(current),
    attempts: outcome.attempts,
    rotated: typeof outcome.value.refresh_token === "string",
  });
  return { record, accessToken: outcome.value.access_token };
}

function logKey(record: ConnectorRecord) {
  return { orgId: record.orgId, connectorId: record.connectorId, provider: record.provider };
}

/** Nothing to refresh with: the stored token serves until it expires, then a person must reconnect. */
async function withoutRefreshToken(deps: LifecycleDeps, current: ConnectorRecord, force: boolean) {
  if (force) throw fail("token_refresh_failed", "The provider issued no refresh token for this connector");
  const expiresAt = current.tokens?.expiresAt;
  if (expiresAt === undefined || Date.parse(expiresAt) > deps.now()) return { record: current };
  await markNeedsReauth(deps, current);
  throw fail("needs_reauth", "The access token expired and the provider issued no refresh token");
}

async function refreshFailed(
  deps: LifecycleDeps,
  current: ConnectorRecord,
  outcome: Extract<CallOutcome<unknown>, { ok: false }>,
): Promise<never> {
  const details = {
    ...logKey(current),
    attempts: outcome.attempts,
    failure: outcome.failure,
    providerError: providerErrorCode(outcome.error),
    ...describeError(outcome.error),
  };
  if (outcome.failure === "rejected") {
    deps.log.warn("grant rejected by the provider; connector needs reauthorization", details);
    await markNeedsReauth(deps, current);
    throw fail("needs_reauth", "The provider no longer accepts this connector's grant; connect it again");
  }
  deps.log.error("token refresh failed", details);
  const message =
    outcome.failure === "transient"
      ? "The provider's token endpoint is unavailable; try again later"
      : "The provider refused to refresh the tokens";
  throw fail("token_refresh_failed", message, outcome.error);
}

/**
 * Opens a connector's sealed secrets, failing closed: a secret that does not open under the
 * connector's current configuration (config-binding.ts: someone changed where it would be sent, or
 * moved a ciphertext) or that predates the binding marks the connector needs_reauth, with a log line;
 * nothing is sent anywhere. A KMS outage (dependency_unavailable) passes through unchanged.
 */
export async function openBound<T>(deps: LifecycleDeps, record: ConnectorRecord, open: () => Promise<T>) {
  try {
    return await open();
  } catch (error) {
    if (!isServiceError(error, "internal_error") && !isServiceError(error, "needs_reauth")) throw error;
    deps.log.error(
      "stored secrets do not match the connector's configuration; connector needs reauthorization",
      {
        ...logKey(record),
        ...describeError(error),
      },
    );
    await markNeedsReauth(deps, record);
    throw fail(
      "needs_reauth",
      "The connector's configuration changed since it was connected; connect it again",
    );
  }
}

/** Marks needs_reauth unless the record changed since it was read (then its new state stands). */
async function markNeedsReauth(deps: LifecycleDeps, current: ConnectorRecord): Promise<void> {
  const marked = await deps.connectors.markNeedsReauth({
    orgId: current.orgId,
    connectorId: current.connectorId,
    expectedVersion: current.version,
    by: current.lastUpdatedBy,
    now: deps.now(),
  });
  if (!marked) deps.log.warn("connector changed before it could be marked needs_reauth", logKey(current));
}

/**
 * Seals and stores the new set with a write conditioned on the version read under the lease. Kept
 * from the stored set when the response lacks them: the refresh token (dynamo.ts), the id_token, and
 * metadata the code exchange recorded (a refresh response rarely repeats Slack's team id).
 */
async function storeRefreshed(
  deps: LifecycleDeps,
  current: ConnectorRecord,
  response: oauth.TokenEndpointResponse,
): Promise<ConnectorRecord> {
  const stored = current.tokens as StoredTokens;
  const sealed = await sealTokenSet(deps.dataKeys, current, response, stored.scopes, deps.now());
  const tokens: StoredTokens = {
    ...sealed,
    idToken: sealed.idToken ?? stored.idToken,
    metadata: { ...stored.metadata, ...sealed.metadata },
    connectedAccount: stored.connectedAccount,
  };
  const save = (expectedVersion: number) =>
    deps.connectors.saveTokens({
      orgId: current.orgId,
      connectorId: current.connectorId,
      clientId: current.clientId,
      tokens,
      by: current.lastUpdatedBy,
      now: deps.now(),
      expectedVersion,
    });
  try {
    return await save(current.version);
  } catch (error) {
    if (!isServiceError(error, "conflict")) throw error;
    // Only the configuration changed meanwhile (same client, same tokens): the new set still belongs.
    const latest = await deps.connectors.get(current.orgId, current.connectorId);
    const sameTokens =
      latest?.status === "authenticated" &&
      latest.clientId === current.clientId &&
      latest.tokens?.obtainedAt === stored.obtainedAt;
    if (latest && sameTokens) return save(latest.version);
    deps.log.warn("refreshed tokens discarded: the connector was reconnected or changed", logKey(current));
    throw fail("conflict", "The connector changed while its tokens were refreshed; try again", error);
  }
}
