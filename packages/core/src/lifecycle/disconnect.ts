/**
 * Disconnecting a connector: revoke its grant at the provider where the catalog names a revocation
 * endpoint (RFC 7009, or the provider's own style: catalog.ts `revocationStyle`), then remove the stored tokens and mark it disconnected. The tokens are removed
 * whatever the provider said: a failed revocation is reported (and logged), never a reason to keep
 * them. It runs under the refresh lease when it can have it, so no refresh swaps the tokens between
 * revoking and removing them; after waiting as long as a refresh may take, it goes ahead anyway.
 */
import { type ResolvedProvider, resolveProvider } from "../catalog.ts";
import { loadConnector } from "../connectors.ts";
import { describeError } from "../errors.ts";
import type { ClientCredentials } from "../oauth.ts";
import { openClient, openTokenSet } from "../tokens.ts";
import type { ConnectorKey, ConnectorRecord } from "../types.ts";
import { type LifecycleDeps, underLease } from "./context.ts";
import {
  type CallOptions,
  callWithRetries,
  providerErrorCode,
  refreshGrant,
  revokeToken,
  type TokenToRevoke,
} from "./provider-calls.ts";

/**
 * revoked: the provider confirmed; not_supported: the catalog has no revocation endpoint for it;
 * no_tokens: nothing was stored; failed: the provider could not be reached or refused (the tokens
 * were removed all the same).
 */
export type Revocation = "revoked" | "not_supported" | "no_tokens" | "failed";

export interface DisconnectResult extends ConnectorKey {
  revocation: Revocation;
}

export async function disconnectConnector(
  deps: LifecycleDeps,
  key: ConnectorKey,
  by: string,
): Promise<DisconnectResult> {
  await loadConnector(deps.connectors, key);
  const revocation = await withLeaseIfPossible(deps, key, async () => {
    const revocation = await revokeStored(deps, await loadConnector(deps.connectors, key));
    await deps.connectors.clearTokens({ ...key, by, now: deps.now() });
    return revocation;
  });
  deps.log.info("connector disconnected", { ...key, revocation });
  return { ...key, revocation };
}

async function withLeaseIfPossible<T>(deps: LifecycleDeps, key: ConnectorKey, work: () => Promise<T>) {
  const deadline = deps.now() + deps.timing.waitMs;
  for (;;) {
    const held = await underLease(deps, key, work);
    if (held) return held.value;
    if (deps.now() >= deadline) {
      deps.log.warn("disconnecting while another process holds the refresh lease", { ...key });
      return work();
    }
    await deps.sleep(deps.timing.pollMs);
  }
}

/** One provider call with the context's retry policy, timeouts and fetch. */
function withRetries<T>(deps: LifecycleDeps, attempt: (options: CallOptions) => Promise<T>) {
  return callWithRetries(
    (fetchImpl) => attempt({ allowLoopbackHttp: deps.catalog.allowLoopbackHttp, fetch: fetchImpl }),
    { policy: deps.timing, sleep: deps.sleep, fetch: deps.fetch },
  );
}

/**
 * The tokens to try, in order. Where the endpoint takes any token, the refresh token first (revoking
 * it ends the grant, RFC 7009 section 2.1), then the access token. A bearer-style endpoint (Slack,
 * Dropbox) revokes the token that authenticates the call, so it needs a live access token: an expired
 * one is refreshed first (the new tokens are only used for the revocation; they are removed with the
 * rest).
 */
async function candidates(
  deps: LifecycleDeps,
  record: ConnectorRecord,
  provider: ResolvedProvider,
  client: ClientCredentials,
): Promise<TokenToRevoke[]> {
  const secrets = await openTokenSet(deps.dataKeys, record);
  const access: TokenToRevoke = { value: secrets.accessToken, hint: "access_token" };
  if ((provider.entry.revocationStyle ?? "rfc7009") !== "bearer") {
    return [
      ...(secrets.refreshToken ? [{ value: secrets.refreshToken, hint: "refresh_token" as const }] : []),
      access,
    ];
  }
  const expiresAt = record.tokens?.expiresAt ? Date.parse(record.tokens.expiresAt) : undefined;
  const refreshToken = secrets.refreshToken;
  if (expiresAt === undefined || expiresAt > deps.now() || !refreshToken) return [access];
  const refreshed = await withRetries(deps, (options) =>
    refreshGrant(provider, client, refreshToken, options),
  );
  if (!refreshed.ok) {
    deps.log.warn("refresh before revocation failed", {
      orgId: record.orgId,
      connectorId: record.connectorId,
      failure: refreshed.failure,
      providerError: providerErrorCode(refreshed.error),
    });
    return [access];
  }
  return [{ value: refreshed.value.access_token, hint: "access_token" }];
}

async function revokeStored(deps: LifecycleDeps, record: ConnectorRecord): Promise<Revocation> {
  if (!record.tokens) return "no_tokens";
  const key = { orgId: record.orgId, connectorId: record.connectorId, provider: record.provider };
  try {
    const provider = resolveProvider(record, deps.catalog);
    if (!provider.revocationUrl) return "not_supported";
    const client = await openClient(deps.dataKeys, record);
    for (const token of await candidates(deps, record, provider, client)) {
      const outcome = await withRetries(deps, (options) => revokeToken(provider, client, token, options));
      if (outcome.ok) return "revoked";
      const { failure, attempts, error } = outcome;
      deps.log.warn("revocation failed", {
        ...key,
        hint: token.hint,
        failure,
        attempts,
        providerError: providerErrorCode(error),
        ...describeError(error),
      });
      // A provider may refuse one kind of token and take the other: try the next one, unless the
      // provider was unreachable, where another try would only wait longer.
      if (failure === "transient") return "failed";
    }
    return "failed";
  } catch (error) {
    deps.log.warn("revocation failed", { ...key, ...describeError(error) });
    return "failed";
  }
}
