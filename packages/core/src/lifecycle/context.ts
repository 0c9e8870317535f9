/**
 * What the token lifecycle operations (refresh.ts, disconnect.ts) share: their resolved
 * dependencies and timing, the authenticated check, and running work under the connector's lease.
 */
import type { CatalogOptions } from "../catalog.ts";
import { describeError, fail, type Log } from "../errors.ts";
import type { ConnectorStore, DataKeys, LeaseStore } from "../ports.ts";
import type { ConnectorKey, ConnectorRecord } from "../types.ts";
import type { RetryPolicy } from "./provider-calls.ts";

export interface RefreshTiming extends RetryPolicy {
  /** How long a refresher holds the lease: longer than all its attempts and pauses together. */
  leaseMs: number;
  /** How long a caller waits for another process's refresh: longer than the lease, so that it
   * takes over from a holder that crashed. */
  waitMs: number;
  /** Pause between reads of the record while waiting. */
  pollMs: number;
}

/** Four attempts of at most 6 s with pauses of 0.25, 0.5 and 1 s fit the 30 s lease. */
export const DEFAULT_TIMING: RefreshTiming = {
  leaseMs: 30_000,
  waitMs: 35_000,
  pollMs: 150,
  maxAttempts: 4,
  baseDelayMs: 250,
  maxDelayMs: 2_000,
  attemptTimeoutMs: 6_000,
};

export interface LifecycleDeps {
  connectors: ConnectorStore;
  leases: LeaseStore;
  dataKeys: DataKeys;
  catalog: CatalogOptions;
  now: () => number;
  sleep: (ms: number) => Promise<void>;
  log: Log;
  fetch?: typeof fetch;
  timing: RefreshTiming;
}

/** needs_reauth or not_connected unless the connector is authenticated and has tokens. */
export function assertAuthenticated(record: ConnectorRecord): void {
  if (record.status === "needs_reauth") {
    throw fail("needs_reauth", "The provider no longer accepts this connector's grant; connect it again");
  }
  if (record.status !== "authenticated" || !record.tokens) {
    throw fail("not_connected", "The connector is not connected");
  }
}

/**
 * Runs `work` while holding the connector's lease under a fresh owner id, and releases it after;
 * resolves undefined without running it when another owner holds the lease. `work` receives the
 * time its lease ends.
 */
export async function underLease<T>(
  deps: LifecycleDeps,
  key: ConnectorKey,
  work: (leaseEnds: number) => Promise<T>,
): Promise<{ value: T } | undefined> {
  const owner = crypto.randomUUID();
  const now = deps.now();
  const ttlMs = deps.timing.leaseMs;
  if (!(await deps.leases.acquire({ ...key, owner, now, ttlMs }))) return undefined;
  try {
    return { value: await work(now + ttlMs) };
  } finally {
    // A lease that cannot be released expires on its own; it must not hide the outcome.
    await deps.leases
      .release({ ...key, owner })
      .catch((error: unknown) =>
        deps.log.warn("refresh lease not released", { ...key, ...describeError(error) }),
      );
  }
}
