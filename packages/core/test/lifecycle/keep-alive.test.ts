import { describe, expect, it } from "vitest";
import { fail } from "../../src/errors.ts";
import { DEFAULT_KEEP_ALIVE, keepAlive, keepAliveReason } from "../../src/lifecycle/keep-alive.ts";
import type { ConnectorRecord, StoredTokens } from "../../src/types.ts";

const NOW = Date.parse("2026-11-28T12:00:00Z");
const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;
const sealed = { v: 1 as const, edk: "e", iv: "i", ct: "c" };

function record(connectorId: string, tokens: Partial<StoredTokens> | undefined, status = "authenticated") {
  return {
    connectorId,
    orgId: "acme",
    provider: "oauth2",
    scope: "team",
    createdBy: "alice",
    clientId: "c",
    status,
    version: 1,
    createdAt: "",
    updatedAt: "",
    lastUpdatedBy: "alice",
    tokens: tokens && {
      access: sealed,
      refresh: sealed,
      tokenType: "bearer",
      scopes: [],
      metadata: {},
      obtainedAt: new Date(NOW - MINUTE).toISOString(),
      ...tokens,
    },
  } as ConnectorRecord;
}

const at = (offsetMs: number) => new Date(NOW + offsetMs).toISOString();
const silent = { info() {}, warn() {}, error() {} };

async function* listOf(records: ConnectorRecord[]) {
  yield* records;
}

describe("keepAliveReason", () => {
  it("is expiring when the access token expires within the window", () => {
    expect(keepAliveReason(record("a", { expiresAt: at(19 * MINUTE) }), NOW, DEFAULT_KEEP_ALIVE)).toBe(
      "expiring",
    );
    expect(keepAliveReason(record("a", { expiresAt: at(-MINUTE) }), NOW, DEFAULT_KEEP_ALIVE)).toBe(
      "expiring",
    );
    expect(
      keepAliveReason(record("a", { expiresAt: at(21 * MINUTE) }), NOW, DEFAULT_KEEP_ALIVE),
    ).toBeUndefined();
  });

  it("is idle when the tokens were last obtained 30 days ago or more, expiry or not", () => {
    const old = { obtainedAt: at(-30 * DAY) };
    expect(keepAliveReason(record("a", old), NOW, DEFAULT_KEEP_ALIVE)).toBe("idle");
    expect(keepAliveReason(record("a", { ...old, expiresAt: at(DAY) }), NOW, DEFAULT_KEEP_ALIVE)).toBe(
      "idle",
    );
    expect(
      keepAliveReason(record("a", { obtainedAt: at(-29 * DAY) }), NOW, DEFAULT_KEEP_ALIVE),
    ).toBeUndefined();
  });

  it("skips connectors without a refresh token or not authenticated", () => {
    const due = { expiresAt: at(MINUTE), obtainedAt: at(-40 * DAY) };
    expect(
      keepAliveReason(record("a", { ...due, refresh: undefined }), NOW, DEFAULT_KEEP_ALIVE),
    ).toBeUndefined();
    expect(keepAliveReason(record("a", due, "needs_reauth"), NOW, DEFAULT_KEEP_ALIVE)).toBeUndefined();
    expect(keepAliveReason(record("a", undefined), NOW, DEFAULT_KEEP_ALIVE)).toBeUndefined();
  });
});

describe("keepAlive", () => {
  it("refreshes due connectors with bounded concurrency and counts each outcome", async () => {
    const records = [
      record("expiring", { expiresAt: at(MINUTE) }),
      record("idle", { obtainedAt: at(-40 * DAY) }),
      record("fresh", { expiresAt: at(DAY) }),
      record("rejected", { expiresAt: at(MINUTE) }),
      record("broken", { expiresAt: at(MINUTE) }),
      ...Array.from({ length: 6 }, (_, i) => record(`more-${i}`, { expiresAt: at(MINUTE) })),
    ];
    const calls: string[] = [];
    let inFlight = 0;
    let most = 0;
    const visit = async (kind: string, connectorId: string) => {
      calls.push(`${kind} ${connectorId}`);
      most = Math.max(most, ++inFlight);
      await new Promise((resolve) => setImmediate(resolve));
      inFlight--;
      if (connectorId === "rejected") throw fail("needs_reauth", "rejected");
      if (connectorId === "broken") throw fail("token_refresh_failed", "down");
      return {} as never;
    };
    const access = {
      getAccessToken: (_org: string, id: string) => visit("get", id),
      refresh: (_org: string, id: string) => visit("refresh", id),
    };
    const summary = await keepAlive({
      connectors: { listAuthenticated: () => listOf(records) },
      access,
      now: () => NOW,
      log: silent,
    });
    expect(summary).toEqual({ examined: 11, refreshed: 8, needsReauth: 1, failed: 1, stoppedEarly: false });
    expect(calls).toContain("get expiring");
    expect(calls).toContain("refresh idle");
    expect(calls.some((call) => call.endsWith(" fresh"))).toBe(false);
    expect(most).toBe(DEFAULT_KEEP_ALIVE.concurrency);
  });

  it("starts nothing after the deadline and says it stopped early", async () => {
    let now = NOW;
    const access = {
      getAccessToken: async () => {
        now += 10 * MINUTE;
        return {} as never;
      },
      refresh: async () => ({}) as never,
    };
    const records = Array.from({ length: 5 }, (_, i) => record(`c${i}`, { expiresAt: at(MINUTE) }));
    const policy = { ...DEFAULT_KEEP_ALIVE, concurrency: 1 };
    const deps = {
      connectors: { listAuthenticated: () => listOf(records) },
      access,
      now: () => now,
      log: silent,
    };
    const summary = await keepAlive(deps, policy, NOW + 15 * MINUTE);
    expect(summary).toMatchObject({ examined: 2, refreshed: 2, stoppedEarly: true });
  });
});
