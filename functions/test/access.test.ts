import {
  authorize,
  demoConnector,
  type Harness,
  JWT_SECRET,
  OTHER_APP_ORIGIN,
  startHarness,
} from "@connector-oauth/test-kit";
import { SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

let h: Harness;

beforeAll(async () => {
  h = await startHarness();
  await h.define([
    demoConnector(h.provider, { connectorId: "team-1", orgId: "acme", scope: "team", createdBy: "alice" }),
    demoConnector(h.provider, {
      connectorId: "personal-1",
      orgId: "acme",
      scope: "personal",
      createdBy: "bob",
    }),
    demoConnector(h.provider, { connectorId: "globex-1", orgId: "globex", scope: "team", createdBy: "gina" }),
  ]);
});
afterAll(() => h?.close());

const token = (sub: string, orgId: string, extra: Record<string, string> = {}) =>
  h.token({ sub, orgId, ...extra });

function errorCode(body: Record<string, unknown>) {
  expect(body.success).toBe(false);
  return (body.error as { code: string }).code;
}

describe("authorize access rules", () => {
  it("answers 401 when there is no token or it is forged", async () => {
    expect((await authorize(h, "team-1", undefined)).status).toBe(401);
    const forged = `${(await token("alice", "acme")).slice(0, -4)}AAAA`;
    const response = await authorize(h, "team-1", forged);
    expect(response.status).toBe(401);
    expect(errorCode(response.body)).toBe("unauthorized");
  });

  it("answers 404 for another org's connector, exactly as for a missing one", async () => {
    const admin = await token("alice", "acme", { role: "admin" });
    const other = await authorize(h, "globex-1", admin);
    const missing = await authorize(h, "no-such-connector", admin);
    expect(other.status).toBe(404);
    expect(other.body).toEqual(missing.body);
    expect(errorCode(other.body)).toBe("connector_not_found");
  });

  it("answers 403 to a member on a team connector and 200 to its creator or an admin", async () => {
    expect((await authorize(h, "team-1", await token("carol", "acme"))).status).toBe(403);
    expect((await authorize(h, "team-1", await token("alice", "acme"))).status).toBe(200);
    expect((await authorize(h, "team-1", await token("dave", "acme", { role: "admin" }))).status).toBe(200);
  });

  it("lets only the creator connect a personal connector, not even an admin", async () => {
    expect((await authorize(h, "personal-1", await token("bob", "acme"))).status).toBe(200);
    const admin = await authorize(h, "personal-1", await token("alice", "acme", { role: "admin" }));
    expect(admin.status).toBe(403);
    expect(errorCode(admin.body)).toBe("forbidden");
  });

  it("requires connector:write when the token carries a scope claim", async () => {
    const narrow = await authorize(h, "team-1", await token("alice", "acme", { scope: "profile" }));
    expect(narrow.status).toBe(403);
    expect(
      (await authorize(h, "team-1", await token("alice", "acme", { scope: "connector:write" }))).status,
    ).toBe(200);
  });

  it("refuses a baseUrl that is not an exact allowed origin with 400 invalid_base_url", async () => {
    const alice = await token("alice", "acme");
    for (const baseUrl of [
      "https://evil.example",
      "https://app.example.com.evil.example",
      "https://app.example.com@evil.example",
      "//evil.example",
      "http://app.example.com",
    ]) {
      const response = await authorize(h, "team-1", alice, `?baseUrl=${encodeURIComponent(baseUrl)}`);
      expect(response.status).toBe(400);
      expect(errorCode(response.body)).toBe("invalid_base_url");
    }
    expect(
      (await authorize(h, "team-1", alice, `?baseUrl=${encodeURIComponent(OTHER_APP_ORIGIN)}`)).status,
    ).toBe(200);
  });

  it("builds an authorization URL no caller input can change", async () => {
    const alice = await token("alice", "acme");
    const query = "?redirect_uri=https://evil.example&state=x&client_id=evil&code_challenge=x&scope=admin";
    const response = await authorize(h, "team-1", alice, query);
    const params = new URL(response.body.authorizationUrl as string).searchParams;
    expect(params.get("redirect_uri")).toBe(h.callbackUrl);
    expect(params.get("client_id")).toBe("connector-client");
    expect(params.get("state")).toBe(response.body.state);
    expect(params.get("scope")).toBe("openid email offline_access");
    expect(params.get("code_challenge")).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect([...params.values()].some((v) => v === "" || v === "None" || v === "undefined")).toBe(false);
    expect((response.body.state as string).length).toBeLessThanOrEqual(512);
  });

  it("refuses JWTs without exp, too old, issued in the future or naming oversized ids, never as an outage", async () => {
    const now = Math.floor(Date.now() / 1000);
    const sign = (claims: Record<string, unknown>) =>
      new SignJWT(claims).setProtectedHeader({ alg: "HS256" }).sign(new TextEncoder().encode(JWT_SECRET));
    const base = { sub: "alice", orgId: "acme", role: "admin" };
    const refused = {
      "no exp": await sign({ ...base, iat: now }),
      "no iat": await sign({ ...base, exp: now + 600 }),
      "older than 24 h": await sign({ ...base, iat: now - 24 * 3600 - 60, exp: now + 600 }),
      "issued in the future": await sign({ ...base, iat: now + 120, exp: now + 600 }),
      "2,100-character orgId": await sign({ ...base, orgId: "o".repeat(2100), iat: now, exp: now + 600 }),
      "257-character user id": await sign({ ...base, sub: "u".repeat(257), iat: now, exp: now + 600 }),
    };
    for (const [why, jwt] of Object.entries(refused)) {
      const response = await authorize(h, "team-1", jwt);
      expect({ why, status: response.status, code: errorCode(response.body) }).toEqual({
        why,
        status: 401,
        code: "unauthorized",
      });
    }
    // Within the clock tolerance, and a day-old token just under the limit, are accepted.
    const fine = await sign({ ...base, iat: now + 2, exp: now + 600 });
    expect((await authorize(h, "team-1", fine)).status).toBe(200);
    const old = await sign({ ...base, iat: now - 24 * 3600 + 60, exp: now + 600 });
    expect((await authorize(h, "team-1", old)).status).toBe(200);
  });
});
