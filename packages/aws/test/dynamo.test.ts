import { ScanCommand } from "@aws-sdk/client-dynamodb";
import type { ConnectorConfig, FlowRecord, StoredTokens } from "@connector-oauth/core";
import { isServiceError } from "@connector-oauth/core";
import { type LocalServices, startLocalServices } from "@connector-oauth/local";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dynamoConnectorStore, dynamoFlowStore } from "../src/dynamo.ts";

let services: LocalServices;
let store: ReturnType<typeof dynamoConnectorStore>;
let flows: ReturnType<typeof dynamoFlowStore>;

const sealed = (tag: string) => ({ v: 2 as const, edk: `edk-${tag}`, iv: `iv-${tag}`, ct: `ct-${tag}` });
const config = (connectorId: string, extra: Partial<ConnectorConfig> = {}): ConnectorConfig => ({
  connectorId,
  orgId: "acme",
  provider: "google-drive",
  scope: "team",
  createdBy: "alice",
  clientId: "client-1",
  clientSecret: sealed("secret"),
  scopes: ["a"],
  ...extra,
});
const tokens = (tag: string, withRefresh: boolean): StoredTokens => ({
  access: sealed(`access-${tag}`),
  refresh: withRefresh ? sealed(`refresh-${tag}`) : undefined,
  tokenType: "bearer",
  expiresAt: "2030-01-01T00:00:00.000Z",
  scopes: ["a"],
  metadata: { teamId: "T1" },
  obtainedAt: "2029-12-31T23:00:00.000Z",
});

beforeAll(async () => {
  services = await startLocalServices();
  store = dynamoConnectorStore(services.dynamo, services.tableName);
  flows = dynamoFlowStore(services.dynamo, services.tableName);
});
afterAll(() => services?.close());

describe("dynamoConnectorStore", () => {
  it("keeps tokens and status when a definition is saved again, and drops removed options", async () => {
    await store.saveDefinition(config("c1", { name: "Drive" }), "ops", 1000);
    await store.saveTokens({
      orgId: "acme",
      connectorId: "c1",
      clientId: "client-1",
      tokens: tokens("1", true),
      by: "alice",
      now: 2000,
    });
    const saved = await store.saveDefinition(
      config("c1", { scopes: ["a", "b"], clientSecret: undefined }),
      "ops",
      3000,
    );
    expect(saved.status).toBe("authenticated");
    expect(saved.tokens?.access).toEqual(sealed("access-1"));
    expect(saved.tokens?.refresh).toEqual(sealed("refresh-1"));
    expect(saved.clientSecret).toEqual(sealed("secret"));
    expect(saved.scopes).toEqual(["a", "b"]);
    expect(saved.name).toBeUndefined();
    expect(saved.createdAt).toBe(new Date(1000).toISOString());
    expect(saved.version).toBe(3);
  });

  it("keeps the stored refresh token when a new token set has none", async () => {
    await store.saveDefinition(config("c2"), "ops", 1000);
    await store.saveTokens({
      orgId: "acme",
      connectorId: "c2",
      clientId: "client-1",
      tokens: tokens("1", true),
      by: "alice",
      now: 2000,
    });
    const after = await store.saveTokens({
      orgId: "acme",
      connectorId: "c2",
      clientId: "client-1",
      tokens: tokens("2", false),
      by: "alice",
      now: 3000,
    });
    expect(after.tokens?.access).toEqual(sealed("access-2"));
    expect(after.tokens?.refresh).toEqual(sealed("refresh-1"));
  });

  it("refuses tokens for a client the connector no longer uses, a stale version or a missing connector", async () => {
    await store.saveDefinition(config("c3"), "ops", 1000);
    const attempts = [
      { connectorId: "c3", clientId: "client-OLD" },
      { connectorId: "c3", clientId: "client-1", expectedVersion: 99 },
      { connectorId: "missing", clientId: "client-1" },
    ];
    for (const attempt of attempts) {
      const error = await store
        .saveTokens({ orgId: "acme", tokens: tokens("x", true), by: "alice", now: 2000, ...attempt })
        .catch((e: unknown) => e);
      expect(isServiceError(error, "conflict")).toBe(true);
    }
    expect((await store.get("acme", "c3"))?.status).toBe("not_connected");
    expect(await store.get("acme", "missing")).toBeUndefined();
  });

  it("lists an org's connectors only and deletes one", async () => {
    await store.saveDefinition(config("g1", { orgId: "globex" }), "ops", 1000);
    expect((await store.list("globex")).map((c) => c.connectorId)).toEqual(["g1"]);
    expect(await store.delete("globex", "g1")).toBe(true);
    expect(await store.delete("globex", "g1")).toBe(false);
    expect(await store.list("globex")).toEqual([]);
  });
});

describe("dynamoFlowStore", () => {
  const flow = (nonce: string): FlowRecord => ({
    nonce,
    orgId: "acme",
    connectorId: "c1",
    userId: "alice",
    provider: "google-drive",
    returnOrigin: "https://app.example.com",
    verifier: "sealed-verifier",
    connector: config("c1"),
    status: "pending",
    createdAt: 1_000,
    expiresAt: 601_000,
  });

  const limit = { maxPending: 20, now: 2_000 };
  const ttlOf = async (pk: string) => {
    const scan = await services.dynamo.send(new ScanCommand({ TableName: services.tableName }));
    return Number(scan.Items?.find((i) => i.pk?.S === pk)?.ttl?.N);
  };

  it("lets exactly one of 20 concurrent consumers take a flow", async () => {
    await flows.create(flow("n1"), limit);
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => flows.consume("n1", `holder-${i}`, 5_000, 30_000)),
    );
    expect(results.filter((r) => r.status === "consumed")).toHaveLength(1);
    expect(results.filter((r) => r.status === "already")).toHaveLength(19);
    const holder = (await flows.get("n1"))?.holder as string;
    expect(await flows.finish("n1", { status: "succeeded" }, 6_000, { holder: "someone-else" })).toBe(false);
    expect(await flows.finish("n1", { status: "succeeded" }, 6_000, { holder })).toBe(true);
    expect((await flows.get("n1"))?.status).toBe("succeeded");
    expect((await flows.consume("missing", "h", 5_000, 30_000)).status).toBe("missing");
  });

  it("refuses a second flow with the same nonce; a pending flow expires with its state", async () => {
    await flows.create(flow("n2"), limit);
    expect(isServiceError(await flows.create(flow("n2"), limit).catch((e: unknown) => e), "conflict")).toBe(
      true,
    );
    expect(await ttlOf("FLOW#n2")).toBe(601);
    await flows.consume("n2", "h2", 5_000, 30_000);
    expect(await ttlOf("FLOW#n2")).toBe(5 + 24 * 3600);
  });

  it("settles an exchanging flow for others only after its lease, and hands a flow back", async () => {
    await flows.create(flow("n3"), limit);
    await flows.consume("n3", "h3", 10_000, 30_000);
    const failed = { status: "failed" as const, error: "token_exchange_failed" as const };
    expect(await flows.finish("n3", failed, 39_999, { leaseExpired: true })).toBe(false);
    expect(await flows.finish("n3", failed, 40_000, { leaseExpired: true })).toBe(true);
    expect(await flows.get("n3")).toMatchObject({ status: "failed", error: "token_exchange_failed" });
    await flows.create(flow("n4"), limit);
    const consumed = await flows.consume("n4", "h4", 10_000, 30_000);
    await flows.release(flow("n4"), "not-h4");
    expect((await flows.get("n4"))?.status).toBe("exchanging");
    await flows.release(consumed.status === "consumed" ? consumed.flow : flow("n4"), "h4");
    expect(await flows.get("n4")).toMatchObject({ status: "pending" });
    expect((await flows.get("n4"))?.holder).toBeUndefined();
    expect(await ttlOf("FLOW#n4")).toBe(601);
  });

  it("holds at most maxPending pending flows per user; consumed and expired flows free their slots", async () => {
    const mine = (nonce: string, expiresAt = 601_000) => ({ ...flow(nonce), userId: "bob", expiresAt });
    const three = { maxPending: 3, now: 2_000 };
    await flows.create(mine("b1"), three);
    await flows.create(mine("b2", 3_000), three);
    await flows.create(mine("b3"), three);
    const refused = await flows.create(mine("b4"), three).catch((e: unknown) => e);
    expect(isServiceError(refused, "too_many_pending_flows")).toBe(true);
    expect(await flows.get("b4")).toBeUndefined();
    // Another user is not affected.
    await flows.create({ ...flow("c1"), userId: "carol" }, three);
    // b2's state expires at 3 000: its slot is free afterwards.
    await flows.create(mine("b4"), { maxPending: 3, now: 3_000 });
    expect(
      isServiceError(
        await flows.create(mine("b5"), three).catch((e: unknown) => e),
        "too_many_pending_flows",
      ),
    ).toBe(true);
    // A consumed flow is no longer pending.
    await flows.consume("b1", "h", 4_000, 30_000);
    await flows.create(mine("b5"), { maxPending: 3, now: 4_000 });
    expect((await flows.get("b5"))?.status).toBe("pending");
  });

  it("takes a user's first slot without reading the slots item: two writes, then one", async () => {
    const seen: string[] = [];
    let recording = false;
    // Observes the commands this client sends (an SDK middleware; nothing is changed).
    services.dynamo.middlewareStack.add(
      (next, context) => (args) => {
        if (recording) seen.push(String(context.commandName).replace(/Command$/, ""));
        return next(args);
      },
      { step: "initialize", name: "recordCommands" },
    );
    try {
      const ops = async (work: () => Promise<unknown>) => {
        seen.length = 0;
        recording = true;
        await work();
        recording = false;
        return [...seen];
      };
      const erin = (nonce: string) => ({ ...flow(nonce), userId: "erin" });
      // The slot update's condition fails (no slots item), the item is created, then the flow.
      expect(await ops(() => flows.create(erin("e1"), { maxPending: 5, now: 2_000 }))).toEqual([
        "UpdateItem",
        "PutItem",
        "PutItem",
      ]);
      expect(await ops(() => flows.create(erin("e2"), { maxPending: 5, now: 2_000 }))).toEqual([
        "UpdateItem",
        "PutItem",
      ]);
      expect((await flows.get("e1"))?.status).toBe("pending");
      expect((await flows.get("e2"))?.status).toBe("pending");
    } finally {
      services.dynamo.middlewareStack.remove("recordCommands");
    }
  });

  it("keeps the limit when many flows for one user start at once", async () => {
    const results = await Promise.allSettled(
      Array.from({ length: 8 }, (_, i) =>
        flows.create({ ...flow(`d${i}`), userId: "dave" }, { maxPending: 5, now: 2_000 }),
      ),
    );
    const created = results.filter((r) => r.status === "fulfilled").length;
    const refused = results.filter(
      (r) => r.status === "rejected" && isServiceError(r.reason, "too_many_pending_flows"),
    ).length;
    expect(created).toBe(5);
    expect(refused).toBe(3);
  });
});
