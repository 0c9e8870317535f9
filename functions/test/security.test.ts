/**
 * Attacks on the connect flow (issue 9), one test each, against the real handlers, dynalite, the
 * local KMS and oidc-provider. Each names the attack and what must hold.
 */
import { kmsStateMac } from "@connector-oauth/aws";
import { issueState, STATE_LIFETIME_SECONDS } from "@connector-oauth/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
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
