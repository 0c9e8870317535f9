/**
 * Keep-alive: run on a schedule, it refreshes access tokens about to expire (so workers rarely wait
 * for a refresh) and touches grants left idle long enough for providers to expire them (Microsoft
 * refresh tokens die after 90 days unused, Box's after 60, Google's after 6 months). A touch is a
 * refresh, under the same lease as every other refresh. Per-connector failures are counted and
 * logged, never thrown: one broken connector must not starve the others.
 */
import { describeError, isServiceError, type Log } from "../errors.ts";
import type { ConnectorStore } from "../ports.ts";
import type { ConnectorRecord } from "../types.ts";
import type { TokenAccess } from "./token-access.ts";

const DAY_MS = 24 * 3600_000;

export interface KeepAlivePolicy {
  /** Refresh access tokens expiring within this: the schedule's interval plus a margin. */
  expiringWithinMs: number;
  /** Touch grants whose tokens were last obtained this long ago. */
  idleAfterMs: number;
  /** Refreshes in flight at once. */
  concurrency: number;
}

/** For a schedule of every 15 minutes. */
export const DEFAULT_KEEP_ALIVE: KeepAlivePolicy = {
  expiringWithinMs: 20 * 60_000,
  idleAfterMs: 30 * DAY_MS,
  concurrency: 4,
};

export type KeepAliveReason = "expiring" | "idle";

export interface KeepAliveSummary {
  examined: number;
  /** Due connectors that now hold fresh tokens (refreshed by this run, or by a worker meanwhile). */
  refreshed: number;
  needsReauth: number;
  failed: number;
  /** True when the deadline stopped the run before every connector was examined. */
  stoppedEarly: boolean;
}

export interface KeepAliveDeps {
  connectors: Pick<ConnectorStore, "listAuthenticated">;
  access: Pick<TokenAccess, "getAccessToken" | "refresh">;
  now: () => number;
  log: Log;
}

/** Why a connector is due, or undefined; only authenticated connectors with a refresh token are. */
export function keepAliveReason(
  record: ConnectorRecord,
  now: number,
  policy: KeepAlivePolicy,
): KeepAliveReason | undefined {
  const tokens = record.tokens;
  if (record.status !== "authenticated" || !tokens?.refresh) return undefined;
  if (tokens.expiresAt !== undefined && Date.parse(tokens.expiresAt) - now <= policy.expiringWithinMs) {
    return "expiring";
  }
  if (now - Date.parse(tokens.obtainedAt) >= policy.idleAfterMs) return "idle";
  return undefined;
}

/** Visits every authenticated connector once; stops starting refreshes at `deadline` (epoch ms). */
export async function keepAlive(
  deps: KeepAliveDeps,
  policy: KeepAlivePolicy = DEFAULT_KEEP_ALIVE,
  deadline = Number.POSITIVE_INFINITY,
): Promise<KeepAliveSummary> {
  const summary: KeepAliveSummary = {
    examined: 0,
    refreshed: 0,
    needsReauth: 0,
    failed: 0,
    stoppedEarly: false,
  };
  const records = deps.connectors.listAuthenticated()[Symbol.asyncIterator]();
  const worker = async () => {
    for (;;) {
      if (deps.now() >= deadline) {
        summary.stoppedEarly = true;
        return;
      }
      const next = await records.next();
      if (next.done) return;
      summary.examined++;
      const reason = keepAliveReason(next.value, deps.now(), policy);
      if (reason) await visit(deps, next.value, reason, policy, summary);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, policy.concurrency) }, worker));
  return summary;
}

async function visit(
  deps: KeepAliveDeps,
  record: ConnectorRecord,
  reason: KeepAliveReason,
  policy: KeepAlivePolicy,
  summary: KeepAliveSummary,
) {
  const { orgId, connectorId } = record;
  try {
    // An expiring token is refreshed only if nobody did since the scan; an idle grant is touched now.
    if (reason === "expiring")
      await deps.access.getAccessToken(orgId, connectorId, { marginMs: policy.expiringWithinMs });
    else await deps.access.refresh(orgId, connectorId);
    summary.refreshed++;
  } catch (error) {
    const needsReauth = isServiceError(error, "needs_reauth");
    if (needsReauth) summary.needsReauth++;
    else summary.failed++;
    const details = { orgId, connectorId, due: reason, ...describeError(error) };
    if (needsReauth) deps.log.warn("keep-alive found a grant the provider rejected", details);
    else deps.log.error("keep-alive could not refresh a connector", details);
  }
}
