import { openTokenSet } from "@connector-oauth/core";
import {
  googleWorkspaceStandIn,
  type Harness,
  LEGACY_CLIENT,
  LEGACY_REDIRECT_URI,
  popupCode,
  startHarness,
  tokenRequests,
} from "@connector-oauth/test-kit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

let h: Harness;

beforeAll(async () => {
  h = await startHarness({
    overrides: googleWorkspaceStandIn,
  });
  const google = {
    provider: "google-workspace",
    scope: "team",
    createdBy: "alice",
    redirectUri: LEGACY_REDIRECT_URI,
    ...LEGACY_CLIENT,
  };
  await h.define([
    { ...google, connectorId: "googleWorkspace", orgId: "acme", scopes: ["openid", "email"] },
    { ...google, connectorId: "workspace-2", orgId: "acme", scopes: ["openid", "email"] },
    {
      ...google,
      connectorId: "bobs-workspace",
      orgId: "acme",
      scope: "personal",
      createdBy: "bob",
      scopes: ["openid", "email"],
    },
    {
      provider: "slack",
      scope: "team",
      createdBy: "alice",
      clientId: "x",
      clientSecret: "y",
      connectorId: "slack-1",
      orgId: "acme",
    },
  ]);
});
afterAll(() => h?.close());

async function post(body: unknown, token?: string) {
  const response = await fetch(`${h.api.url}/connectors/getTokenFromCode`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  // biome-ignore lint/suspicious/noExplicitAny: the test reads nested JSON fields it asserts on
  return { status: response.status, body: (await response.json()) as Record<string, any> };
}

const admin = (email = "alice@example.com") => h.token({ sub: "alice", orgId: "acme", role: "admin", email });

describe("getTokenFromCode", () => {
  it("refuses another admin's code on a member's personal connector: 403, no exchange, nothing stored", async () => {
    const code = await popupCode(h);
    const before = tokenRequests(h).length;
    const response = await post({ code, connectorId: "bobs-workspace" }, await admin());
    expect(response.status).toBe(403);
    expect(response.body.error.code).toBe("forbidden");
    expect(tokenRequests(h).length).toBe(before);
    const stored = await h.connectors.get("acme", "bobs-workspace");
    expect(stored?.status).toBe("not_connected");
    expect(stored?.tokens).toBeUndefined();
  });

  it("stores the tokens and answers with PipesHub's connector fields when an admin posts a code", async () => {
    const response = await post({ code: await popupCode(h) }, await admin());
    expect(response.status).toBe(200);
    expect(response.body.success).toBe(true);
    const connector = response.body.connector;
    expect(connector).toMatchObject({
      _id: "googleWorkspace",
      orgId: "acme",
      isEnabled: true,
      isAuthenticated: true,
      provider: "google-workspace",
      lastUpdatedBy: "alice",
      connectedAccount: { id: "alice", email: "alice@example.com", emailVerified: true },
    });
    expect(Number.isNaN(Date.parse(connector.createdAt))).toBe(false);
    expect(JSON.stringify(response.body)).not.toMatch(/secret|access_token|refresh/i);
    const stored = await h.connectors.get("acme", "googleWorkspace");
    const secrets = await openTokenSet(h.dataKeys, stored as NonNullable<typeof stored>);
    const me = await fetch(`${h.provider.issuer}/me`, {
      headers: { authorization: `Bearer ${secrets.accessToken}` },
    });
    expect(((await me.json()) as { sub: string }).sub).toBe("alice");
  });

  it("accepts tempCode as an alias and a connectorId", async () => {
    const response = await post({ tempCode: await popupCode(h), connectorId: "workspace-2" }, await admin());
    expect(response.status).toBe(200);
    expect(response.body.connector._id).toBe("workspace-2");
  });

  it("answers 403 to a non-admin without contacting the provider", async () => {
    const before = tokenRequests(h).length;
    const member = await h.token({ sub: "carol", orgId: "acme", email: "carol@example.com" });
    const response = await post({ code: "whatever" }, member);
    expect(response.status).toBe(403);
    expect(response.body.error.code).toBe("forbidden");
    expect(tokenRequests(h).length).toBe(before);
  });

  it("answers 400 invalid_grant when the provider rejects the code", async () => {
    const response = await post({ code: "not-a-real-code" }, await admin());
    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe("invalid_grant");
    expect(JSON.stringify(response.body)).not.toContain("not-a-real-code");
  });

  it("answers 400 account_mismatch when the Google account is not the caller's", async () => {
    const response = await post({ code: await popupCode(h, "mallory") }, await admin("alice@example.com"));
    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe("account_mismatch");
  });

  it("answers 401, 400 and 404 for a missing token, a missing code and a missing connector", async () => {
    expect((await post({ code: "x" })).status).toBe(401);
    expect((await post({}, await admin())).body.error.code).toBe("invalid_request");
    expect((await post("not json", await admin())).body.error.code).toBe("invalid_request");
    expect((await post({ code: "x", connectorId: "nope" }, await admin())).status).toBe(404);
    expect((await post({ code: "x", connectorId: "slack-1" }, await admin())).status).toBe(400);
  });

  it("never retries the code POST when the provider fails, answering 502", async () => {
    const code = await popupCode(h);
    const before = tokenRequests(h).length;
    h.provider.faults.push(503, 503);
    const response = await post({ code }, await admin());
    h.provider.faults.length = 0;
    expect(response.status).toBe(502);
    expect(response.body.error.code).toBe("provider_error");
    expect(tokenRequests(h).length).toBe(before + 1);
  });
});
