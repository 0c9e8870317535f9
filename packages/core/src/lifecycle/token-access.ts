/**
 * Token access: the facade sync workers, the keep-alive job and the CLI use (`getAccessToken`,
 * `refresh`, `disconnect`) over the lifecycle operations in this folder (refresh.ts, disconnect.ts).
 * It adds the freshness rule (a margin before expiry, at most half the token's lifetime) and shares
 * one in-process refresh per connector among concurrent callers; across processes the connector's
 * lease (context.ts) keeps refreshes to one at a time. Time and sleep come from the caller.
 */
import { loadConnector } from "../connectors.ts";
import { openField } from "../envelope.ts";
import { fail } from "../errors.ts";
import { tokensContext } from "../tokens.ts";
import type { ConnectorKey, ConnectorRecord } from "../types.ts";
import { DEFAULT_TIMING, type LifecycleDeps, type RefreshTiming } from "./context.ts";
import { type DisconnectResult, disconnectConnector } from "./disconnect.ts";
import { openBound, type RefreshRequest, refreshUnderLease, type Settled } from "./refresh.ts";

export const DEFAULT_MARGIN_MS = 5 * 60_000;

export interface TokenAccessDeps extends Omit<LifecycleDeps, "timing"> {
  /** Refresh when the access token expires within this many milliseconds (default 5 minutes). */
  marginMs?: number;
  timing?: Partial<RefreshTiming>;
}

/** An access token and what API calls need with it. Never log it. */
export interface AccessToken extends ConnectorKey {
  provider: string;
  accessToken: string;
  /** The Authorization scheme: "bearer" (or "dpop"). */
  tokenType: string;
  /** Absolute UTC expiry (ISO 8601), when the provider gave one. */
  expiresAt?: string;
  scopes: string[];
  /** Provider metadata the code exchange kept: Slack teamId, Salesforce instanceUrl, Zoom apiUrl, ... */
  metadata: Record<string, string>;
}

export interface TokenAccess {
  /** A token valid for more than the margin (per call: `options.marginMs`), refreshed first if needed. */
  getAccessToken(orgId: string, connectorId: string, options?: { marginMs?: number }): Promise<AccessToken>;
  /** Refreshes now (or returns the set another process refreshed meanwhile). */
  refresh(orgId: string, connectorId: string): Promise<AccessToken>;
  /** Revokes at the provider, then removes the tokens whatever it answered; `by` is recorded. */
  disconnect(orgId: string, connectorId: string, by?: string): Promise<DisconnectResult>;
}

/**
 * True when the connector is authenticated and its token outlives the margin (or has no expiry). The
 * margin is at most half the token's lifetime: a provider issuing 5-minute tokens would otherwise
 * see every call refresh.
 */
export function isFresh(record: ConnectorRecord, now: number, marginMs: number): boolean {
  const tokens = record.tokens;
  if (record.status !== "authenticated" || !tokens) return false;
  if (tokens.expiresAt === undefined) return true;
  const expiresAt = Date.parse(tokens.expiresAt);
  const lifetime = expiresAt - Date.parse(tokens.obtainedAt);
  return expiresAt - now > Math.min(marginMs, lifetime / 2);
}

async function toAccessToken(deps: LifecycleDeps, { record, accessToken }: Settled): Promise<AccessToken> {
  const tokens = record.tokens;
  if (!tokens) throw fail("internal_error", "A settled connector has no tokens");
  return {
    orgId: record.orgId,
    connectorId: record.connectorId,
    provider: record.provider,
    accessToken:
      accessToken ??
      (await openBound(deps, record, async () =>
        openField(deps.dataKeys, await tokensContext(record), "access", tokens.access),
      )),
    tokenType: tokens.tokenType,
    expiresAt: tokens.expiresAt,
    scopes: tokens.scopes,
    metadata: tokens.metadata,
  };
}

/** Builds the token access operations over the given ports; time and sleep come from the caller. */
export function createTokenAccess(given: TokenAccessDeps): TokenAccess {
  const deps: LifecycleDeps = { ...given, timing: { ...DEFAULT_TIMING, ...given.timing } };
  const defaultMargin = given.marginMs ?? DEFAULT_MARGIN_MS;
  const inFlight = new Map<string, Promise<Settled>>();

  /** One refresh per connector and kind in this process; later callers share the first one's result. */
  function shared(kind: string, key: ConnectorKey, request: RefreshRequest): Promise<Settled> {
    const id = JSON.stringify([kind, key.orgId, key.connectorId]);
    const running = inFlight.get(id);
    if (running) return running;
    const started = refreshUnderLease(deps, key, request).finally(() => inFlight.delete(id));
    inFlight.set(id, started);
    return started;
  }

  return {
    async getAccessToken(orgId, connectorId, options = {}) {
      const key = { orgId, connectorId };
      const marginMs = options.marginMs ?? defaultMargin;
      const satisfied = (record: ConnectorRecord) => isFresh(record, deps.now(), marginMs);
      const record = await loadConnector(deps.connectors, key);
      if (satisfied(record)) return toAccessToken(deps, { record });
      return toAccessToken(deps, await shared(`margin:${marginMs}`, key, { satisfied, force: false }));
    },

    async refresh(orgId, connectorId) {
      const key = { orgId, connectorId };
      const seen = (await loadConnector(deps.connectors, key)).tokens?.obtainedAt;
      const satisfied = (record: ConnectorRecord) =>
        record.status === "authenticated" && record.tokens !== undefined && record.tokens.obtainedAt !== seen;
      return toAccessToken(deps, await shared(`after:${seen}`, key, { satisfied, force: true }));
    },

    disconnect: (orgId, connectorId, by = "token-access") =>
      disconnectConnector(deps, { orgId, connectorId }, by),
  };
}
