import { dynamoLeaseStore } from "@connector-oauth/aws";
import { type AccessToken, isServiceError } from "@connector-oauth/core";
import { type DemoProvider, startDemoProvider } from "@connector-oauth/demo-provider";
import { CLIENT, type Harness, startHarness, tokenRequests } from "@connector-oauth/test-kit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  capturingLog,
  connectDemo,
  isActive,
  NEAR_EXPIRY_MS,
  rawItems,
  refreshRequests,
  revocationRequests,
  revokeAtProvider,
  shiftedClock,
  steppedClock,
  storedSecrets,
  tokenAccess,
} from "./support.ts";

let h: Harness;
/** A provider that keeps its refresh tokens and leaves them out of refresh responses (as Google). */
let keeper: DemoProvider;
let counter = 0;
const nextId = () => `sync-${++counter}`;

async function failure(promise: Promise<unknown>) {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(isServiceError(error)).toBe(true);
  return error as { code: string; message: string };
}

beforeAll(async () => {
  h = await startHarness();
  keeper = await startDemoProvider({
    clients: [{ ...CLIENT, redirectUris: [h.callbackUrl] }],
    refreshResponses: "omit",
  });
});
afterAll(async () => {
  await keeper?.close();
  await h?.close();
});

describe("getAccessToken", () => {
  it("returns the stored token and what API calls need, without a provider request, when it is not about to expire", async () => {
    const id = nextId();
    await connectDemo(h, id);
    const stored = await storedSecrets(h, id);
    const before = refreshRequests(h.provider).length;
    const token = await tokenAccess(h, shiftedClock(0)).getAccessToken("acme", id);
    expect(token).toEqual({
      orgId: "acme",
      connectorId: id,
      provider: "oauth2",
      accessToken: stored.accessToken,
      tokenType: "bearer",
      expiresAt: stored.record.tokens?.expiresAt,
      scopes: stored.record.tokens?.scopes ?? [],
      metadata: {},
    } satisfies AccessToken);
    expect(refreshRequests(h.provider).length).toBe(before);
  });

  it("refreshes exactly once for 20 concurrent callers on a token about to expire, and all get the new token", async () => {
    const id = nextId();
    await connectDemo(h, id);
    const old = await storedSecrets(h, id);
    const before = refreshRequests(h.provider).length;
    const log = capturingLog();
    // Twenty separate token accesses: each takes the lease under its own owner id, like 20 processes.
    const tokens = await Promise.all(
      Array.from({ length: 20 }, () =>
        tokenAccess(h, shiftedClock(NEAR_EXPIRY_MS), { log }).getAccessToken("acme", id),
      ),
    );
    expect(refreshRequests(h.provider).length).toBe(before + 1);
    const fresh = tokens[0]?.accessToken as string;
    expect(fresh).not.toBe(old.accessToken);
    expect(tokens.map((t) => t.accessToken)).toEqual(Array(20).fill(fresh));
    expect(Date.parse(tokens[0]?.expiresAt ?? "") - (Date.now() + NEAR_EXPIRY_MS)).toBeGreaterThan(3500_000);
    // The provider recognises the new token as alice's; the lease is gone; no secret reached the log.
    const me = await fetch(`${h.provider.issuer}/me`, { headers: { authorization: `Bearer ${fresh}` } });
    expect(((await me.json()) as { sub: string }).sub).toBe("alice");
    expect((await rawItems(h, id)).lease).toBeUndefined();
    const now = await storedSecrets(h, id);
    expect(log.lines.join("\n")).toContain("tokens refreshed");
    for (const secret of [old.accessToken, old.refreshToken, fresh, now.refreshToken]) {
      expect(log.lines.join("\n")).not.toContain(secret);
    }
  });

  it("stores the rotated refresh token in the same write, and the next refresh uses it", async () => {
    const id = nextId();
    await connectDemo(h, id);
    const first = await storedSecrets(h, id);
    const access = tokenAccess(h, shiftedClock(0));
    await access.refresh("acme", id);
    const second = await storedSecrets(h, id);
    expect(refreshRequests(h.provider).at(-1)?.params.refresh_token).toBe(first.refreshToken);
    expect(second.refreshToken).not.toBe(first.refreshToken);
    expect(second.record.version).toBe(first.record.version + 1);
    expect(await isActive(h.provider, first.refreshToken as string)).toBe(false);
    expect(await isActive(h.provider, second.refreshToken as string)).toBe(true);
    const refreshed = await access.refresh("acme", id);
    expect(refreshRequests(h.provider).at(-1)?.params.refresh_token).toBe(second.refreshToken);
    expect(refreshed.accessToken).toBe((await storedSecrets(h, id)).accessToken);
  });

  it("keeps the stored refresh token when the refresh response has none", async () => {
    const id = nextId();
    await connectDemo(h, id, { provider: keeper });
    const first = await storedSecrets(h, id);
    const { refreshToken: sealedBefore } = (await rawItems(h, id)).connector ?? {};
    const access = tokenAccess(h, shiftedClock(0));
    const refreshed = await access.refresh("acme", id);
    expect(refreshRequests(keeper).at(-1)?.status).toBe(200);
    expect(refreshed.accessToken).not.toBe(first.accessToken);
    expect((await rawItems(h, id)).connector?.refreshToken).toEqual(sealedBefore);
    expect((await storedSecrets(h, id)).refreshToken).toBe(first.refreshToken);
    await access.refresh("acme", id);
    expect(refreshRequests(keeper).at(-1)?.params.refresh_token).toBe(first.refreshToken);
  });

  it("marks the connector needs_reauth after one provider request when the grant was revoked", async () => {
    const id = nextId();
    await connectDemo(h, id);
    await revokeAtProvider(h.provider, (await storedSecrets(h, id)).refreshToken as string);
    const before = refreshRequests(h.provider).length;
    const access = tokenAccess(h, shiftedClock(NEAR_EXPIRY_MS));
    const error = await failure(access.getAccessToken("acme", id));
    expect(error.code).toBe("needs_reauth");
    expect(
      refreshRequests(h.provider)
        .slice(before)
        .map((r) => r.status),
    ).toEqual([400]);
    expect((await h.connectors.get("acme", id))?.status).toBe("needs_reauth");
    expect((await failure(access.getAccessToken("acme", id))).code).toBe("needs_reauth");
    expect(refreshRequests(h.provider).length).toBe(before + 1);
  });

  it("retries a provider 503 after a pause and then succeeds", async () => {
    const id = nextId();
    await connectDemo(h, id);
    const old = await storedSecrets(h, id);
    const clock = steppedClock(Date.now() + NEAR_EXPIRY_MS);
    // Faulted requests are answered before the provider parses them: counted among all /token requests.
    const before = tokenRequests(h).length;
    h.provider.faults.push(503);
    const token = await tokenAccess(h, clock).getAccessToken("acme", id);
    expect(
      tokenRequests(h)
        .slice(before)
        .map((r) => r.status),
    ).toEqual([503, 200]);
    expect(clock.sleeps).toEqual([250]);
    expect(token.accessToken).not.toBe(old.accessToken);
    expect((await h.connectors.get("acme", id))?.status).toBe("authenticated");
  });

  it("gives up with token_refresh_failed after capped retries of 429 and 5xx, leaving the status and grant alone", async () => {
    const id = nextId();
    await connectDemo(h, id);
    const old = await storedSecrets(h, id);
    const clock = steppedClock(Date.now() + NEAR_EXPIRY_MS);
    // Faulted requests are answered before the provider parses them: counted among all /token requests.
    const before = tokenRequests(h).length;
    h.provider.faults.push(429, 503, 502, 500);
    const access = tokenAccess(h, clock, { timing: { maxDelayMs: 400 } });
    expect((await failure(access.getAccessToken("acme", id))).code).toBe("token_refresh_failed");
    expect(
      tokenRequests(h)
        .slice(before)
        .map((r) => r.status),
    ).toEqual([429, 503, 502, 500]);
    expect(clock.sleeps).toEqual([250, 400, 400]);
    const after = await storedSecrets(h, id);
    expect(after.record.status).toBe("authenticated");
    expect(after.accessToken).toBe(old.accessToken);
    // The grant is intact: the next call refreshes with the same refresh token.
    await access.getAccessToken("acme", id);
    expect(refreshRequests(h.provider).at(-1)?.params.refresh_token).toBe(old.refreshToken);
  });

  it("refreshes with the connector's current client secret, and a refused client does not mark needs_reauth", async () => {
    const id = nextId();
    await connectDemo(h, id);
    await h.define([
      {
        connectorId: id,
        orgId: "acme",
        provider: "oauth2",
        scope: "team",
        createdBy: "alice",
        clientId: CLIENT.clientId,
        clientSecret: "rotated-elsewhere-and-wrong-0000",
        scopes: ["openid", "email", "offline_access"],
        endpoints: {
          authorizationUrl: h.provider.authorizationUrl,
          tokenUrl: h.provider.tokenUrl,
          issuer: h.provider.issuer,
        },
      },
    ]);
    const before = refreshRequests(h.provider).length;
    const access = tokenAccess(h, steppedClock(Date.now() + NEAR_EXPIRY_MS));
    expect((await failure(access.getAccessToken("acme", id))).code).toBe("token_refresh_failed");
    const sent = refreshRequests(h.provider).slice(before);
    expect(sent.map((r) => r.status)).toEqual([401]);
    expect(sent[0]?.params.client_secret).toBe("rotated-elsewhere-and-wrong-0000");
    expect((await h.connectors.get("acme", id))?.status).toBe("authenticated");
  });

  it("answers not_connected and connector_not_found without a provider request", async () => {
    const id = nextId();
    await h.define([
      {
        connectorId: id,
        orgId: "acme",
        provider: "oauth2",
        scope: "team",
        createdBy: "alice",
        ...CLIENT,
        endpoints: { authorizationUrl: h.provider.authorizationUrl, tokenUrl: h.provider.tokenUrl },
      },
    ]);
    const before = h.provider.requests.length;
    const access = tokenAccess(h, shiftedClock(0));
    expect((await failure(access.getAccessToken("acme", id))).code).toBe("not_connected");
    expect((await failure(access.getAccessToken("acme", "no-such-connector"))).code).toBe(
      "connector_not_found",
    );
    expect((await failure(access.getAccessToken("globex", id))).code).toBe("connector_not_found");
    expect((await failure(access.refresh("acme", "../x"))).code).toBe("connector_not_found");
    expect(h.provider.requests.length).toBe(before);
  });
});

describe("refresh lease", () => {
  it("lets the next caller proceed once a lease left by a crashed holder expires", async () => {
    const id = nextId();
    await connectDemo(h, id);
    const clock = steppedClock(Date.now() + NEAR_EXPIRY_MS);
    const start = clock.now();
    const leases = dynamoLeaseStore(h.services.dynamo, h.services.tableName);
    expect(
      await leases.acquire({ orgId: "acme", connectorId: id, owner: "crashed", now: start, ttlMs: 30_000 }),
    ).toBe(true);
    const before = refreshRequests(h.provider).length;
    const token = await tokenAccess(h, clock, { timing: { pollMs: 1_000 } }).getAccessToken("acme", id);
    expect(clock.now() - start).toBeGreaterThanOrEqual(30_000);
    expect(refreshRequests(h.provider).length).toBe(before + 1);
    expect(token.accessToken).toBe((await storedSecrets(h, id)).accessToken);
    expect((await rawItems(h, id)).lease).toBeUndefined();
  });

  it("gives up with token_refresh_failed when the lease stays taken longer than a caller waits", async () => {
    const id = nextId();
    await connectDemo(h, id);
    const clock = steppedClock(Date.now() + NEAR_EXPIRY_MS);
    const leases = dynamoLeaseStore(h.services.dynamo, h.services.tableName);
    await leases.acquire({ orgId: "acme", connectorId: id, owner: "slow", now: clock.now(), ttlMs: 60_000 });
    const before = refreshRequests(h.provider).length;
    const access = tokenAccess(h, clock, { timing: { waitMs: 5_000, pollMs: 1_000 } });
    expect((await failure(access.getAccessToken("acme", id))).code).toBe("token_refresh_failed");
    expect(refreshRequests(h.provider).length).toBe(before);
    // Only its owner releases a lease.
    await leases.release({ orgId: "acme", connectorId: id, owner: "someone-else" });
    expect((await rawItems(h, id)).lease?.owner).toBe("slow");
    await leases.release({ orgId: "acme", connectorId: id, owner: "slow" });
    expect((await rawItems(h, id)).lease).toBeUndefined();
  });
});

describe("disconnect", () => {
  it("revokes the grant at the provider's revocation endpoint and leaves no token behind", async () => {
    const id = nextId();
    await connectDemo(h, id, { endpoints: { revocationUrl: h.provider.revocationUrl } });
    const secrets = await storedSecrets(h, id);
    const before = revocationRequests(h.provider).length;
    const access = tokenAccess(h, shiftedClock(0));
    expect(await access.disconnect("acme", id, "operator")).toEqual({
      orgId: "acme",
      connectorId: id,
      revocation: "revoked",
    });
    const sent = revocationRequests(h.provider).slice(before);
    expect(sent.map((r) => [r.status, r.params.token, r.params.token_type_hint])).toEqual([
      [200, secrets.refreshToken, "refresh_token"],
    ]);
    expect(await isActive(h.provider, secrets.accessToken)).toBe(false);
    expect(await isActive(h.provider, secrets.refreshToken as string)).toBe(false);
    const { connector, lease } = await rawItems(h, id);
    expect(connector?.tokens).toBeUndefined();
    expect(connector?.refreshToken).toBeUndefined();
    expect(connector?.status).toBe("disconnected");
    expect(connector?.lastUpdatedBy).toBe("operator");
    expect(lease).toBeUndefined();
    expect((await failure(access.getAccessToken("acme", id))).code).toBe("not_connected");
  });

  it("reports a revocation failure and still removes the tokens", async () => {
    const id = nextId();
    // Nothing listens on port 9 of the loopback: every revocation attempt fails to connect.
    await connectDemo(h, id, { endpoints: { revocationUrl: "http://127.0.0.1:9/revoke" } });
    const clock = steppedClock(Date.now());
    const log = capturingLog();
    const result = await tokenAccess(h, clock, { log }).disconnect("acme", id);
    expect(result.revocation).toBe("failed");
    expect(clock.sleeps).toEqual([250, 500, 1000]);
    expect(log.lines.join("\n")).toContain("revocation failed");
    const { connector } = await rawItems(h, id);
    expect(connector?.tokens).toBeUndefined();
    expect(connector?.refreshToken).toBeUndefined();
    expect(connector?.status).toBe("disconnected");
  });

  it("removes the tokens and says not_supported when the provider has no revocation endpoint", async () => {
    const id = nextId();
    await connectDemo(h, id);
    const before = revocationRequests(h.provider).length;
    const result = await tokenAccess(h, shiftedClock(0)).disconnect("acme", id);
    expect(result.revocation).toBe("not_supported");
    expect(revocationRequests(h.provider).length).toBe(before);
    expect((await rawItems(h, id)).connector?.tokens).toBeUndefined();
  });

  it("can be reconnected after a disconnect", async () => {
    const id = nextId();
    await connectDemo(h, id, { endpoints: { revocationUrl: h.provider.revocationUrl } });
    await tokenAccess(h, shiftedClock(0)).disconnect("acme", id);
    await connectDemo(h, id, { endpoints: { revocationUrl: h.provider.revocationUrl } });
    const token = await tokenAccess(h, shiftedClock(0)).getAccessToken("acme", id);
    expect(token.accessToken).toBe((await storedSecrets(h, id)).accessToken);
  });
});

describe("connector store lifecycle writes", () => {
  it("marks needs_reauth only at the version it read, and lists only authenticated connectors", async () => {
    const id = nextId();
    const connected = await connectDemo(h, id);
    const write = { orgId: "acme", connectorId: id, by: "worker", now: Date.now() };
    expect(await h.connectors.markNeedsReauth({ ...write, expectedVersion: connected.version - 1 })).toBe(
      false,
    );
    expect((await h.connectors.get("acme", id))?.status).toBe("authenticated");
    const listed = async () => {
      const ids: string[] = [];
      for await (const record of h.connectors.listAuthenticated()) ids.push(record.connectorId);
      return ids;
    };
    expect(await listed()).toContain(id);
    expect(await h.connectors.markNeedsReauth({ ...write, expectedVersion: connected.version })).toBe(true);
    const marked = await h.connectors.get("acme", id);
    expect(marked?.status).toBe("needs_reauth");
    expect(marked?.version).toBe(connected.version + 1);
    expect(marked?.tokens?.refresh).toEqual(connected.tokens?.refresh);
    expect(await listed()).not.toContain(id);
    expect(await h.connectors.clearTokens({ ...write, connectorId: "no-such-connector" })).toBe(false);
  });
});
