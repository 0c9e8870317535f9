import { openTokenSet } from "@connector-oauth/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  APP_ORIGIN,
  authorize,
  CLIENT,
  callCallback,
  consent,
  demoConnector,
  type Harness,
  startHarness,
  tokenRequests,
} from "./support/harness.ts";

let h: Harness;
let adminToken: string;

beforeAll(async () => {
  h = await startHarness();
  await h.define([demoConnector(h.provider, { connectorId: "demo", orgId: "acme" })]);
  adminToken = await h.token({ sub: "alice", orgId: "acme", role: "admin", email: "alice@example.com" });
});
afterAll(() => h?.close());

describe("connect flow", () => {
  it("stores exactly the provider's tokens when the user consents", async () => {
    const started = await authorize(h, "demo", adminToken);
    expect(started.status).toBe(200);
    const url = new URL(started.body.authorizationUrl as string);
    expect(url.searchParams.get("code_challenge_method")).toBe("S256");
    const callbackUrl = await consent(h, url.href);
    const before = tokenRequests(h).length;
    const response = await callCallback(callbackUrl);
    expect(response.status).toBe(302);
    expect(response.headers.get("location")).toBe(`${APP_ORIGIN}/account/company-settings/settings/connector/demo`);
    expect(tokenRequests(h).length).toBe(before + 1);
    const stored = await h.connectors.get("acme", "demo");
    expect(stored?.status).toBe("authenticated");
    const secrets = await openTokenSet(h.dataKeys, stored as NonNullable<typeof stored>);
    expect(secrets.accessToken).toMatch(/.{20,}/);
    expect(secrets.refreshToken).toMatch(/.{20,}/);
    expect(CLIENT.clientSecret).toBeTruthy();
  });
});
