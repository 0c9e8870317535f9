/**
 * Disconnecting a connector: revoke its grant at the provider where the catalog names a revocation
 * endpoint (RFC 7009, or the provider's own style: catalog.ts `revocationStyle`), then remove the stored tokens and mark it disconnected. The tokens are removed
 * whatever the provider said: a failed revocation is reported (and logged), never a reason to keep
 * them. It runs under the refresh lease when it can have it, so no refresh swaps the tokens between
 * revoking and removing them; after waiting as long as a refresh may take, it goes ahead anyway.
 */
import { type ResolvedProvider, resolveProvider } from "../catalog.ts";
import type { ConnectorRecord } from "../connectors.ts";
import { describeError } from "../errors.ts";
import type { ClientCredentials } from "../oauth.ts";
import { openTokenSet } from "../tokens.ts";
import { type ConnectorKey, clientOf, type LifecycleContext, loadConnector, underLease } from "./context.ts";
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
  ctx: LifecycleContext,
  key: ConnectorKey,
  by: string,
): Promise<DisconnectResult> {
  await loadConnector(ctx, key);
  const revocation = await withLeaseIfPossible(ctx, key, async () => {
    const revocation = await revokeStored(ctx, await loadConnector(ctx, key));
    await ctx.connectors.clearTokens({ ...key, by, now: ctx.now() });
    return revocation;
  });
  ctx.log.info("connector disconnected", { ...key, revocation });
  return { ...key, revocation };
}

async function withLeaseIfPossible<T>(ctx: LifecycleContext, key: ConnectorKey, work: () => Promise<T>) {
  const deadline = ctx.now() + ctx.timing.waitMs;
  for (;;) {
    const held = await underLease(ctx, key, work);
    if (held) return held.value;
    if (ctx.now() >= deadline) {
      ctx.log.warn("disconnecting while another process holds the refresh lease", { ...key });
      return work();
    }
    await ctx.sleep(ctx.timing.pollMs);
  }
}

/** One provider call with the context's retry policy, timeouts and fetch. */
function withRetries<T>(ctx: LifecycleContext, attempt: (options: CallOptions) => Promise<T>) {
  return callWithRetries(
    (fetchImpl) => attempt({ allowLoopbackHttp: ctx.catalog.allowLoopbackHttp, fetch: fetchImpl }),
    { policy: ctx.timing, sleep: ctx.sleep, fetch: ctx.fetch },
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
  ctx: LifecycleContext,
  record: ConnectorRecord,
  provider: ResolvedProvider,
  client: ClientCredentials,
): Promise<TokenToRevoke[]> {
  const secrets = await openTokenSet(ctx.dataKeys, record);
  const access: TokenToRevoke = { value: secrets.accessToken, hint: "access_token" };
  if ((provider.entry.revocationStyle ?? "rfc7009") !== "bearer") {
    return [
      ...(secrets.refreshToken ? [{ value: secrets.refreshToken, hint: "refresh_token" as const }] : []),
      access,
    ];
  }
  const expiresAt = record.tokens?.expiresAt ? Date.parse(record.tokens.expiresAt) : undefined;
  const refreshToken = secrets.refreshToken;
  if (expiresAt === undefined || expiresAt > ctx.now() || !refreshToken) return [access];
  const refreshed = await withRetries(ctx, (options) =>
    refreshGrant(provider, client, refreshToken, options),
  );
  if (!refreshed.ok) {
    ctx.log.warn("refresh before revocation failed", {
      ...{ orgId: record.orgId, connectorId: record.connectorId, failure: refreshed.failure },
      providerError: providerErrorCode(refreshed.error),
    });
    return [access];
  }
  return [{ value: refreshed.value.access_token, hint: "access_token" }];
}

async function revokeStored(ctx: LifecycleContext, record: ConnectorRecord): Promise<Revocation> {
  if (!record.tokens) return "no_tokens";
  const key = { orgId: record.orgId, connectorId: record.connectorId, provider: record.provider };
  try {
    const provider = resolveProvider(record, ctx.catalog);
    if (!provider.revocationUrl) return "not_supported";
    const client = await clientOf(ctx, record);
    for (const token of await candidates(ctx, record, provider, client)) {
      const outcome = await withRetries(ctx, (options) => revokeToken(provider, client, token, options));
      if (outcome.ok) return "revoked";
      const { failure, attempts, error } = outcome;
      ctx.log.warn("revocation failed", {
        ...{ ...key, hint: token.hint, failure, attempts, providerError: providerErrorCode(error) },
        ...describeError(error),
      });
      // A provider may refuse one kind of token and take the other: try the next one, unless the
      // provider was unreachable, where another try would only wait longer.
      if (failure === "transient") return "failed";
    }
    return "failed";
  } catch (error) {
    ctx.log.warn("revocation failed", { ...key, ...describeError(error) });
    return "failed";
  }
}
