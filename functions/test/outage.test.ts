import {
  authorize,
  callCallback,
  demoConnector,
  type Harness,
  startHarness,
} from "@connector-oauth/test-kit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

// A real outage: the handlers' KMS endpoint is a closed port (the harness's own setup still
// reaches the local KMS directly, so connectors exist).
let h: Harness;

beforeAll(async () => {
  h = await startHarness({ env: { AWS_ENDPOINT_URL_KMS: "http://127.0.0.1:9", AWS_MAX_ATTEMPTS: "2" } });
  await h.define([demoConnector(h.provider, { connectorId: "demo", orgId: "acme" })]);
});
afterAll(() => h?.close());

describe("dependency outage", () => {
  it("answers authorize with 503 dependency_unavailable and no detail when KMS is down", async () => {
    const response = await authorize(
      h,
      "demo",
      await h.token({ sub: "alice", orgId: "acme", role: "admin" }),
    );
    expect(response.status).toBe(503);
    expect(response.body).toEqual({
      success: false,
      error: { code: "dependency_unavailable", message: "The key service is unavailable" },
    });
    expect(h.logs.join("\n")).toContain("dependency_unavailable");
  });

  it("answers the callback with a 503 page, not a redirect, when the state cannot be checked", async () => {
    const state = `v1.${Buffer.from(JSON.stringify({ c: "demo", o: "acme", u: "alice", p: "oauth2", n: "qNbVKoYzPNJxh5YrQnqiPZjvKK-lALY729bN3WAWAlc", r: "https://app.example.com", iat: 1, exp: 2 })).toString("base64url")}.${"A".repeat(43)}`;
    const response = await callCallback(`${h.callbackUrl}?code=x&state=${state}`);
    expect(response.status).toBe(503);
    expect(response.headers.get("location")).toBeNull();
    expect(response.text).toContain("unavailable");
  });
});
