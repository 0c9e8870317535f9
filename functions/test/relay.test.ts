/**
 * A stage that accepts relayed callbacks without `iss` (ACCEPT_RELAYED_CALLBACKS_WITHOUT_ISS): only
 * with the initiator's bearer token, and each use is logged. Settings are read once per process,
 * hence a file of its own.
 */

import {
  authorize,
  callCallback,
  consent,
  demoConnector,
  type Harness,
  startHarness,
  tokenRequests,
} from "@connector-oauth/test-kit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

let h: Harness;

beforeAll(async () => {
  h = await startHarness({ env: { ACCEPT_RELAYED_CALLBACKS_WITHOUT_ISS: "true" } });
  const p = h.provider;
  const endpoints = {
    authorizationUrl: p.authorizationUrl,
    tokenUrl: p.tokenUrl,
    issuer: p.issuer,
    sendsIss: true,
  };
  await h.define([demoConnector(p, { connectorId: "github-like", orgId: "acme", endpoints })]);
});
afterAll(() => h?.close());

/** A callback URL as PipesHub's SDK relays it: without iss. */
async function relayedWithoutIss(token: string) {
  const started = await authorize(h, "github-like", token);
  const url = new URL(await consent(h, started.body.authorizationUrl as string));
  url.searchParams.delete("iss");
  return url.href;
}

describe("relayed callbacks without iss", () => {
  it("accepts one carrying the initiator's bearer (logged), and refuses one without a bearer", async () => {
    const alice = await h.token({ sub: "alice", orgId: "acme", role: "admin" });
    const url = await relayedWithoutIss(alice);
    const response = await fetch(url, {
      headers: { accept: "application/json", authorization: `Bearer ${alice}` },
    });
    expect(await response.json()).toMatchObject({ success: true, connectorId: "github-like" });
    expect(h.logs.join("")).toContain("relayed callback accepted without iss");

    const before = tokenRequests(h).length;
    const bare = await callCallback(await relayedWithoutIss(alice), "application/json");
    expect(JSON.parse(bare.text)).toMatchObject({ success: false, error: "iss_mismatch" });
    expect(tokenRequests(h).length).toBe(before);
  });
});
