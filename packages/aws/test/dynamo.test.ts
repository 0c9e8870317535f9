import { ScanCommand } from "@aws-sdk/client-dynamodb";
import type { ConnectorConfig, FlowRecord, NewTokenSet } from "@connector-oauth/core";
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
const tokens = (tag: string, withRefresh: boolean): NewTokenSet => ({
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

  it("lets exactly one of 20 concurrent consumers take a flow", async () => {
    await flows.create(flow("n1"));
    const results = await Promise.all(Array.from({ length: 20 }, () => flows.consume("n1", 5_000)));
    expect(results.filter((r) => r.status === "consumed")).toHaveLength(1);
    expect(results.filter((r) => r.status === "already")).toHaveLength(19);
    await flows.finish("n1", { status: "succeeded" }, 6_000);
    expect((await flows.get("n1"))?.status).toBe("succeeded");
    expect((await flows.consume("missing", 5_000)).status).toBe("missing");
  });

  it("refuses a second flow with the same nonce and stores a TTL past the expiry", async () => {
    await flows.create(flow("n2"));
    expect(isServiceError(await flows.create(flow("n2")).catch((e: unknown) => e), "conflict")).toBe(true);
    const scan = await services.dynamo.send(new ScanCommand({ TableName: services.tableName }));
    const item = scan.Items?.find((i) => i.pk?.S === "FLOW#n2");
    expect(Number(item?.ttl?.N)).toBeGreaterThan(601);
  });
});
