/**
 * Attacks on the connect flow (issue 9), one test each, against the real handlers, dynalite, the
 * local KMS and oidc-provider. Each names the attack and what must hold.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { UpdateItemCommand } from "@aws-sdk/client-dynamodb";
import { marshall } from "@aws-sdk/util-dynamodb";
import { kmsStateMac } from "@connector-oauth/aws";
import { isServiceError, issueState, STATE_LIFETIME_SECONDS } from "@connector-oauth/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { capturingLog, connectDemo, NEAR_EXPIRY_MS, shiftedClock, tokenAccess } from "./lifecycle/support.ts";
import { callCallback, demoConnector, type Harness, startHarness, tokenRequests } from "./support/harness.ts";

let h: Harness;
let counter = 0;

async function newConnector(fields: Record<string, unknown> = {}) {
  const connectorId = `sec-${++counter}`;
  await h.define([demoConnector(h.provider, { connectorId, orgId: "acme", ...fields })]);
  return connectorId;
}

beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h?.close());

describe("return origin", () => {
  /** A state the service signed while `returnOrigin` was configured, with its pending flow. */
  async function stateFor(
    connectorId: string,
    returnOrigin: string,
    issuedAt = Math.floor(Date.now() / 1000),
  ) {
    const nonce = Buffer.from(crypto.getRandomValues(new Uint8Array(16))).toString("base64url");
    const claims = { connectorId, orgId: "acme", userId: "alice", provider: "oauth2", nonce, returnOrigin };
    const { state } = await issueState(kmsStateMac(h.services.kms, h.services.stateKeyId), {
      ...claims,
      ...{ issuedAt, expiresAt: issuedAt + STATE_LIFETIME_SECONDS },
    });
    const connector = (await h.connectors.get("acme", connectorId)) as NonNullable<
      Awaited<ReturnType<Harness["connectors"]["get"]>>
    >;
    await h.flows.create({
      ...{ nonce, orgId: "acme", connectorId, userId: "alice", provider: "oauth2", returnOrigin },
      ...{ connector, status: "pending", createdAt: issuedAt * 1000, expiresAt: (issuedAt + 600) * 1000 },
    });
    return state;
  }

  it("an origin removed from APP_ORIGINS after the state was issued receives no redirect, not even state_expired", async () => {
    const id = await newConnector();
    const removed = await stateFor(id, "https://removed.example.com");
    const expired = await stateFor(id, "https://removed.example.com", Math.floor(Date.now() / 1000) - 3600);
    const malformed = await stateFor(id, "javascript:alert(1)//");
    const before = tokenRequests(h).length;
    for (const state of [removed, expired, malformed]) {
      const query = new URLSearchParams({ code: "c", state, iss: h.provider.issuer });
      const page = await callCallback(`${h.callbackUrl}?${query}`);
      expect(page.status).toBe(400);
      expect(page.headers.get("location")).toBeNull();
      expect(page.text).not.toContain("removed.example.com");
      expect(page.text).not.toContain("javascript:");
      const asJson = await callCallback(`${h.callbackUrl}?${query}`, "application/json");
      expect(asJson.status).toBe(400);
      expect(JSON.parse(asJson.text).error.code).toBe("invalid_state");
    }
    expect(tokenRequests(h).length).toBe(before);
    expect((await h.connectors.get("acme", id))?.status).toBe("not_connected");
  });
});

describe("configuration binding", () => {
  /** A listener the test owns: an attacker's token endpoint. Records every request it receives. */
  async function listener() {
    const received: string[] = [];
    const server = createServer((req, res) => {
      received.push(`${req.method} ${req.url}`);
      res.end("{}");
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return { url, received, close: () => new Promise((resolve) => server.close(resolve)) };
  }

  it("table tampering: a token URL re-pointed in the item gets no refresh token or client secret, and the connector needs reauth", async () => {
    const id = "tampered-1";
    const connected = await connectDemo(h, id);
    const attacker = await listener();
    try {
      // Whoever can write the table (not use the key) re-points the custom token endpoint.
      const endpoints = { ...connected.endpoints, tokenUrl: `${attacker.url}/token` };
      await h.services.dynamo.send(
        new UpdateItemCommand({
          TableName: h.services.tableName,
          Key: marshall({ pk: "ORG#acme", sk: `CONNECTOR#${id}` }),
          UpdateExpression: "SET endpoints = :endpoints",
          ExpressionAttributeValues: marshall({ ":endpoints": endpoints }),
        }),
      );
      const log = capturingLog();
      const access = tokenAccess(h, shiftedClock(NEAR_EXPIRY_MS), { log });
      const refreshed = await access.refresh("acme", id).catch((e: unknown) => e);
      expect(isServiceError(refreshed, "needs_reauth")).toBe(true);
      const read = await access.getAccessToken("acme", id).catch((e: unknown) => e);
      expect(isServiceError(read, "needs_reauth")).toBe(true);
      expect(attacker.received).toEqual([]);
      expect((await h.connectors.get("acme", id))?.status).toBe("needs_reauth");
      expect(log.lines.join("\n")).toContain("stored secrets do not match the connector's configuration");
    } finally {
      await attacker.close();
    }
  });

  it("a legitimate definition change of a connected connector removes its tokens and says so", async () => {
    const id = "rebound-1";
    await connectDemo(h, id);
    const [same] = await h.define([demoConnector(h.provider, { connectorId: id, orgId: "acme" })]);
    expect(same).toMatchObject({ status: "authenticated" });
    expect((same as { tokensRemoved?: boolean }).tokensRemoved).toBeUndefined();
    const [changed] = await h.define([
      demoConnector(h.provider, {
        connectorId: id,
        orgId: "acme",
        params: undefined,
        clientId: "connector-client-2",
      }),
    ]);
    expect(changed).toMatchObject({ status: "disconnected", tokensRemoved: true });
    const stored = await h.connectors.get("acme", id);
    expect(stored?.tokens).toBeUndefined();
    expect(stored?.status).toBe("disconnected");
  });
});
