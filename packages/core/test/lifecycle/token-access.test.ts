import { describe, expect, it } from "vitest";
import { DEFAULT_MARGIN_MS, isFresh } from "../../src/lifecycle/token-access.ts";
import type { ConnectorRecord } from "../../src/types.ts";

const NOW = Date.parse("2026-11-28T12:00:00Z");
const MINUTE = 60_000;
const sealed = { v: 1 as const, edk: "e", iv: "i", ct: "c" };
const iso = (offsetMs: number) => new Date(NOW + offsetMs).toISOString();

function connector(expiresIn: number | undefined, lifetime = 60 * MINUTE, status = "authenticated") {
  return {
    status,
    tokens: {
      access: sealed,
      tokenType: "bearer",
      scopes: [],
      metadata: {},
      obtainedAt: iso((expiresIn ?? 0) - lifetime),
      expiresAt: expiresIn === undefined ? undefined : iso(expiresIn),
    },
  } as unknown as ConnectorRecord;
}

describe("isFresh", () => {
  it("is true while the token outlives the margin, false within it or after expiry", () => {
    expect(isFresh(connector(6 * MINUTE), NOW, DEFAULT_MARGIN_MS)).toBe(true);
    expect(isFresh(connector(5 * MINUTE), NOW, DEFAULT_MARGIN_MS)).toBe(false);
    expect(isFresh(connector(-MINUTE), NOW, DEFAULT_MARGIN_MS)).toBe(false);
  });

  it("caps the margin at half the token's lifetime, so short-lived tokens are not refreshed on every call", () => {
    expect(isFresh(connector(4 * MINUTE, 5 * MINUTE), NOW, DEFAULT_MARGIN_MS)).toBe(true);
    expect(isFresh(connector(2 * MINUTE, 5 * MINUTE), NOW, DEFAULT_MARGIN_MS)).toBe(false);
  });

  it("is true for a token without expiry and false unless the connector is authenticated", () => {
    expect(isFresh(connector(undefined), NOW, DEFAULT_MARGIN_MS)).toBe(true);
    expect(isFresh(connector(30 * MINUTE, 60 * MINUTE, "needs_reauth"), NOW, DEFAULT_MARGIN_MS)).toBe(false);
    expect(isFresh({ status: "authenticated" } as ConnectorRecord, NOW, DEFAULT_MARGIN_MS)).toBe(false);
  });
});
