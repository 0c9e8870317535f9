/**
 * Disconnecting a connector: revoke its grant at the provider where the catalog names a revocation
 * endpoint (RFC 7009), then remove the stored tokens and mark it disconnected. The tokens are removed
 * whatever the provider said: a failed revocation is reported (and logged), never a reason to keep
 * them. It runs under the refresh lease when it can have it, so no refresh swaps the tokens between
 * revoking and removing them; after waiting as long as a refresh may take, it goes ahead anyway.
 */
import { resolveProvider } from "../catalog.ts";
import type { ConnectorRecord } from "../connectors.ts";
import { describeError } from "../errors.ts";
import { openTokenSet } from "../tokens.ts";
import { type ConnectorKey, clientOf, type LifecycleContext, loadConnector, underLease } from "./context.ts";
import { callWithRetries, providerErrorCode, revokeToken, type TokenToRevoke } from "./provider-calls.ts";

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

/** Revokes the refresh token (which ends the grant, RFC 7009 section 2.1), else the access token. */
async function revokeStored(ctx: LifecycleContext, record: ConnectorRecord): Promise<Revocation> {
  if (!record.tokens) return "no_tokens";
  const key = { orgId: record.orgId, connectorId: record.connectorId, provider: record.provider };
  try {
    const provider = resolveProvider(record, ctx.catalog);
    if (!provider.revocationUrl) return "not_supported";
    const client = await clientOf(ctx, record);
    const secrets = await openTokenSet(ctx.dataKeys, record);
    const candidates: TokenToRevoke[] = [
      ...(secrets.refreshToken ? [{ value: secrets.refreshToken, hint: "refresh_token" as const }] : []),
      { value: secrets.accessToken, hint: "access_token" },
    ];
    for (const token of candidates) {
      const outcome = await callWithRetries(
        (fetchImpl) =>
          revokeToken(provider, client, token, {
            allowLoopbackHttp: ctx.catalog.allowLoopbackHttp,
            fetch: fetchImpl,
          }),
        { policy: ctx.timing, sleep: ctx.sleep, fetch: ctx.fetch },
      );
      if (outcome.ok) return "revoked";
      const { failure, attempts, error } = outcome;
      ctx.log.warn("revocation failed", {
        ...{ ...key, hint: token.hint, failure, attempts, providerError: providerErrorCode(error) },
        ...describeError(error),
      });
      // Some providers revoke only the token they hand out for API calls (Slack): try that one next,
      // unless the provider was unreachable, where another try would only wait longer.
      if (failure === "transient") return "failed";
    }
    return "failed";
  } catch (error) {
    ctx.log.warn("revocation failed", { ...key, ...describeError(error) });
    return "failed";
  }
}
