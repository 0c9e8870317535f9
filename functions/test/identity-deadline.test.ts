/**
 * The identity lookup after the code exchange keeps to the callback's budget: a hanging identity
 * endpoint must not push the callback past its timeout, since the issued tokens are stored after
 * it. Settings are read once per process, hence a file of its own (a small budget).
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import {
  authorize,
  callCallback,
  consent,
  demoConnector,
  type Harness,
  startHarness,
} from "@connector-oauth/test-kit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

let h: Harness;
let hanging: Server;
let hangingUrl: string;
const seen: string[] = [];

beforeAll(async () => {
  // 6 s budget, 2 x 1 s AWS attempts: about 3.5 s of the budget are left for the identity lookup
  // after the exchange, well under its own 5 s limit.
  h = await startHarness({
    env: { CALLBACK_BUDGET_MS: "6000", AWS_ATTEMPT_TIMEOUT_MS: "1000", AWS_MAX_ATTEMPTS: "2" },
  });
  // An identity endpoint that accepts the request and never answers.
  hanging = createServer((req) => seen.push(`${req.method} ${req.url}`));
  await new Promise<void>((done) => hanging.listen(0, "127.0.0.1", done));
  hangingUrl = `http://127.0.0.1:${(hanging.address() as AddressInfo).port}/userinfo`;
});
afterAll(async () => {
  hanging?.closeAllConnections();
  await new Promise((done) => hanging?.close(done));
  await h?.close();
});

describe("callback identity lookup", () => {
  it("gives a hanging identity endpoint only the budget left, then stores the tokens", async () => {
    const p = h.provider;
    const endpoints = { authorizationUrl: p.authorizationUrl, tokenUrl: p.tokenUrl, issuer: p.issuer };
    await h.define([
      demoConnector(p, {
        connectorId: "slow-identity",
        orgId: "acme",
        endpoints: { ...endpoints, userinfoUrl: hangingUrl },
      }),
    ]);
    const admin = await h.token({ sub: "alice", orgId: "acme", role: "admin", email: "alice@example.com" });
    const started = await authorize(h, "slow-identity", admin);
    expect(started.status).toBe(200);
    const callbackUrl = await consent(h, started.body.authorizationUrl as string);
    const t0 = Date.now();
    const response = await callCallback(callbackUrl);
    const elapsed = Date.now() - t0;
    expect(response.headers.get("location")).not.toContain("oauth_error");
    expect(seen).toEqual(["GET /userinfo"]);
    // Inside the 6 s budget (the identity endpoint's own limit alone is 5 s after the exchange).
    expect(elapsed).toBeLessThan(5_000);
    const stored = await h.connectors.get("acme", "slow-identity");
    expect(stored?.status).toBe("authenticated");
    expect(stored?.tokens?.connectedAccount).toBeUndefined();
    expect(h.logs.join("")).toContain("connected account not identified");
  });
});
