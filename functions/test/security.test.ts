/**
 * Attacks on the connect flow (issue 9), one test each, against the real handlers, dynalite, the
 * local KMS and oidc-provider. Each names the attack and what must hold.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { UpdateItemCommand } from "@aws-sdk/client-dynamodb";
import { marshall } from "@aws-sdk/util-dynamodb";
import { kmsStateMac } from "@connector-oauth/aws";
import { connectorConfig, isServiceError, issueState, STATE_LIFETIME_SECONDS } from "@connector-oauth/core";
import {
  authorize,
  CLIENT,
  callCallback,
  consent,
  demoConnector,
  type Harness,
  startHarness,
  tokenRequests,
} from "@connector-oauth/test-kit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { capturingLog, connectDemo, NEAR_EXPIRY_MS, shiftedClock, tokenAccess } from "./lifecycle/support.ts";

let h: Harness;
let counter = 0;

/** A custom connector at the demo provider; `identity` adds its OpenID Connect UserInfo endpoint. */
async function newConnector(fields: Record<string, unknown> = {}, endpoints: Record<string, unknown> = {}) {
  const connectorId = `sec-${++counter}`;
  const p = h.provider;
  const base = { authorizationUrl: p.authorizationUrl, tokenUrl: p.tokenUrl, issuer: p.issuer };
  await h.define([
    demoConnector(p, { connectorId, orgId: "acme", endpoints: { ...base, ...endpoints }, ...fields }),
  ]);
  return connectorId;
}

const identity = () => ({ userinfoUrl: `${h.provider.issuer}/me` });
const member = (sub: string, extra: Record<string, string> = {}) =>
  h.token({ sub, orgId: "acme", email: `${sub}@example.com`, ...extra });

async function startFlow(connectorId: string, token: string) {
  const started = await authorize(h, connectorId, token);
  expect(started.status).toBe(200);
  return started.body.authorizationUrl as string;
}

function errorLocation(code: string, connectorId: string) {
  return `https://app.example.com/connectors/oauth/callback?oauth_error=${code}&connectorId=${connectorId}`;
}

/** The callback as a relay sends it: JSON, with a bearer token. */
async function relay(url: string, bearer: string) {
  const response = await fetch(url, {
    headers: { accept: "application/json", authorization: `Bearer ${bearer}` },
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h?.close());

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
      issuedAt,
      expiresAt: issuedAt + STATE_LIFETIME_SECONDS,
    });
    const connector = (await h.connectors.get("acme", connectorId)) as NonNullable<
      Awaited<ReturnType<Harness["connectors"]["get"]>>
    >;
    await h.flows.create(
      {
        nonce,
        orgId: "acme",
        connectorId,
        userId: "alice",
        provider: "oauth2",
        returnOrigin,
        connector,
        status: "pending",
        createdAt: issuedAt * 1000,
        expiresAt: (issuedAt + 600) * 1000,
      },
      { maxPending: 20, now: issuedAt * 1000 },
    );
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
    expect(same?.tokensRemoved).toBe(false);
    const [changed] = await h.define([
      demoConnector(h.provider, {
        connectorId: id,
        orgId: "acme",
        params: undefined,
        clientId: "connector-client-2",
      }),
    ]);
    // SPEC 2.4: a re-pointed connector was never connected with its new configuration.
    expect(changed).toMatchObject({ status: "not_connected", tokensRemoved: true });
    const stored = await h.connectors.get("acme", id);
    expect(stored?.tokens).toBeUndefined();
    expect(stored?.status).toBe("not_connected");
  });
});

describe("initiator binding", () => {
  it("consent phishing: a colleague's consent on a member's personal connector stores nothing (account_mismatch)", async () => {
    const id = await newConnector({ scope: "personal", createdBy: "alice" }, identity());
    const url = await startFlow(id, await member("alice"));
    // The member sends the provider URL to an admin, who signs in (own cookie jar) and consents.
    const callbackUrl = await consent(h, url, "bob");
    const before = tokenRequests(h).length;
    const response = await callCallback(callbackUrl);
    expect(response.status).toBe(302);
    expect(response.headers.get("location")).toBe(errorLocation("account_mismatch", id));
    expect(tokenRequests(h).length).toBe(before + 1);
    const stored = await h.connectors.get("acme", id);
    expect(stored?.status).toBe("not_connected");
    expect(stored?.tokens).toBeUndefined();
    // The flow is consumed: a replay answers the same, with no second exchange.
    expect((await callCallback(callbackUrl)).headers.get("location")).toBe(
      errorLocation("account_mismatch", id),
    );
    expect(tokenRequests(h).length).toBe(before + 1);
    expect(h.logs.join("")).toContain("consenting account is not the initiator of a personal connector");
  });

  it("consent phishing: the colleague's tokens are revoked at the provider, so the grant does not stay live", async () => {
    const revocations = () => h.provider.requests.filter((r) => r.path === "/token/revocation");
    const id = await newConnector(
      { scope: "personal", createdBy: "alice" },
      { ...identity(), revocationUrl: h.provider.revocationUrl },
    );
    const callbackUrl = await consent(h, await startFlow(id, await member("alice")), "bob");
    const before = revocations().length;
    const response = await callCallback(callbackUrl);
    expect(response.headers.get("location")).toBe(errorLocation("account_mismatch", id));
    expect((await h.connectors.get("acme", id))?.tokens).toBeUndefined();
    const revoked = revocations().slice(before);
    expect(revoked.map((r) => [r.status, r.params.token_type_hint])).toEqual([[200, "refresh_token"]]);
    // The provider no longer honours the refresh token it issued for bob.
    const refresh = await fetch(h.provider.tokenUrl, {
      method: "POST",
      headers: {
        "content-type": "application/x-www-form-urlencoded",
        authorization: `Basic ${Buffer.from(`${CLIENT.clientId}:${CLIENT.clientSecret}`).toString("base64")}`,
      },
      body: new URLSearchParams({
        grant_type: "refresh_token",
        refresh_token: String(revoked[0]?.params.token),
      }),
    });
    expect(refresh.status).toBe(400);
    expect(((await refresh.json()) as { error: string }).error).toBe("invalid_grant");
    expect(h.logs.join("")).toContain("revoked the tokens of a mismatched consent");
  });

  it("unreadable identity: a personal connector whose identity endpoint fails stores nothing and revokes; a team one still connects", async () => {
    // An identity endpoint that is down: it could be anyone's consent, so the check cannot pass.
    const seen: string[] = [];
    const down = createServer((req, res) => {
      seen.push(`${req.method} ${req.url}`);
      res.writeHead(503).end();
    });
    await new Promise<void>((resolve) => down.listen(0, "127.0.0.1", resolve));
    try {
      const userinfoUrl = `http://127.0.0.1:${(down.address() as AddressInfo).port}/me`;
      const revocations = () => h.provider.requests.filter((r) => r.path === "/token/revocation");
      const endpoints = { userinfoUrl, revocationUrl: h.provider.revocationUrl };
      const personal = await newConnector({ scope: "personal", createdBy: "alice" }, endpoints);
      const callbackUrl = await consent(h, await startFlow(personal, await member("alice")), "alice");
      const before = revocations().length;
      const response = await callCallback(callbackUrl);
      expect(response.headers.get("location")).toBe(errorLocation("provider_error", personal));
      expect(seen).toEqual(["GET /me"]);
      const stored = await h.connectors.get("acme", personal);
      expect(stored?.status).toBe("not_connected");
      expect(stored?.tokens).toBeUndefined();
      expect(
        revocations()
          .slice(before)
          .map((r) => [r.status, r.params.token_type_hint]),
      ).toEqual([[200, "refresh_token"]]);
      expect(h.logs.join("")).toContain("consenting account of a personal connector could not be read");
      expect(h.logs.join("")).toContain("revoked the tokens of an unidentified consent");

      // A team connector records the account where it can and does not enforce it: it connects.
      const team = await newConnector({ scope: "team", createdBy: "alice" }, endpoints);
      const admin = await member("alice", { role: "admin" });
      const connected = await callCallback(await consent(h, await startFlow(team, admin), "alice"));
      expect(connected.headers.get("location")).toContain(`/connector/${team}`);
      const teamStored = await h.connectors.get("acme", team);
      expect(teamStored?.status).toBe("authenticated");
      expect(teamStored?.tokens?.connectedAccount).toBeUndefined();
    } finally {
      await new Promise((resolve) => down.close(resolve));
    }
  });

  it("records who consented on the connector and in the JSON answer; team connectors record without enforcing", async () => {
    const personal = await newConnector({ scope: "personal", createdBy: "alice" }, identity());
    const ownCallback = await consent(h, await startFlow(personal, await member("alice")), "alice");
    const own = await callCallback(ownCallback, "application/json");
    const answer = JSON.parse(own.text);
    expect(answer).toMatchObject({ success: true, connectorId: personal });
    const alice = { id: "alice", email: "alice@example.com", emailVerified: true };
    expect(answer.connectedAccount).toEqual(alice);
    // A repeated callback (no second exchange) answers the same, the account included.
    const before = tokenRequests(h).length;
    expect(JSON.parse((await callCallback(ownCallback, "application/json")).text)).toEqual(answer);
    expect(tokenRequests(h).length).toBe(before);
    expect((await h.connectors.get("acme", personal))?.tokens?.connectedAccount).toEqual(alice);
    expect(JSON.stringify(answer)).not.toMatch(/access_token|refresh/);

    const team = await newConnector({ scope: "team", createdBy: "alice" }, identity());
    const admin = await member("alice", { role: "admin" });
    const serviceAccount = await callCallback(await consent(h, await startFlow(team, admin), "svc-sync"));
    expect(serviceAccount.headers.get("location")).toContain(`/connector/${team}`);
    expect((await h.connectors.get("acme", team))?.tokens?.connectedAccount).toEqual({
      id: "svc-sync",
      email: "svc-sync@example.com",
      emailVerified: true,
    });
  });

  it("relay with another user's bearer: account_mismatch before any exchange, flow consumed, nothing stored", async () => {
    const id = await newConnector({ scope: "team", createdBy: "alice" });
    const callbackUrl = await consent(
      h,
      await startFlow(id, await member("alice", { role: "admin" })),
      "alice",
    );
    const before = tokenRequests(h).length;
    const carol = await relay(callbackUrl, await member("carol"));
    expect(carol.status).toBe(200);
    expect(carol.body).toMatchObject({ success: false, error: "account_mismatch", connectorId: id });
    expect(tokenRequests(h).length).toBe(before);
    expect((await h.connectors.get("acme", id))?.tokens).toBeUndefined();
    // Consumed: even the initiator's own relay of the same callback now gets that outcome.
    const alice = await relay(callbackUrl, await member("alice", { role: "admin" }));
    expect(alice.body).toMatchObject({ success: false, error: "account_mismatch" });
    expect(tokenRequests(h).length).toBe(before);
    // An invalid bearer is refused outright (401), before the flow is touched.
    const other = await newConnector();
    const next = await consent(h, await startFlow(other, await member("alice", { role: "admin" })), "alice");
    expect((await relay(next, "not-a-jwt")).status).toBe(401);
    const own = await relay(next, await member("alice", { role: "admin" }));
    expect(own.body).toMatchObject({ success: true, connectorId: other });
  });
});

describe("flow record binding", () => {
  /** Rewrites one attribute of the pending flow of `authorizationUrl` with the DynamoDB client. */
  async function tamperFlow(authorizationUrl: string, attribute: string, value: unknown) {
    const state = new URL(authorizationUrl).searchParams.get("state") ?? "";
    const nonce = JSON.parse(Buffer.from(state.split(".")[1] ?? "", "base64url").toString()).n;
    await h.services.dynamo.send(
      new UpdateItemCommand({
        TableName: h.services.tableName,
        Key: marshall({ pk: `FLOW#${nonce}`, sk: "FLOW" }),
        UpdateExpression: "SET #a = :v",
        ExpressionAttributeNames: { "#a": attribute },
        ExpressionAttributeValues: marshall({ ":v": value }),
      }),
    );
  }

  it("flow record tampering: a pending flow re-assigned or re-pointed in the table exchanges no code", async () => {
    const id = await newConnector({ scope: "personal", createdBy: "alice" }, identity());
    const before = tokenRequests(h).length;
    // Whoever can write the table makes bob's consent look like the initiator's...
    const reassigned = await startFlow(id, await member("alice"));
    await tamperFlow(reassigned, "initiatorEmail", "bob@example.com");
    const first = await callCallback(await consent(h, reassigned, "bob"));
    expect(first.headers.get("location")).toBe(errorLocation("server_error", id));
    // ...or re-points a public client's flow (no client secret to fail) at a token endpoint of their own.
    const publicClient = await newConnector({ clientSecret: undefined }, identity());
    const repointed = await startFlow(publicClient, await member("alice", { role: "admin" }));
    const snapshot = (await h.connectors.get("acme", publicClient)) as NonNullable<
      Awaited<ReturnType<Harness["connectors"]["get"]>>
    >;
    const config = connectorConfig(snapshot);
    const attacker = await listener();
    try {
      const endpoints = { ...config.endpoints, tokenUrl: `${attacker.url}/token` };
      await tamperFlow(repointed, "connector", { ...config, endpoints });
      const second = await callCallback(await consent(h, repointed, "alice"));
      expect(second.headers.get("location")).toBe(errorLocation("server_error", publicClient));
      expect(attacker.received).toEqual([]);
    } finally {
      await attacker.close();
    }
    expect(tokenRequests(h).length).toBe(before);
    expect((await h.connectors.get("acme", id))?.tokens).toBeUndefined();
  });
});

describe("iss (RFC 9207)", () => {
  it("GitHub-style iss: a provider that sends iss is refused without it (also relayed) and with a wrong one", async () => {
    const admin = await member("alice", { role: "admin" });
    const id = await newConnector({}, { sendsIss: true });
    const sent = new URL(await consent(h, await startFlow(id, admin)));
    expect(sent.searchParams.get("iss")).toBe(h.provider.issuer);
    const before = tokenRequests(h).length;
    sent.searchParams.delete("iss");
    expect((await callCallback(sent.href)).headers.get("location")).toBe(errorLocation("iss_mismatch", id));
    const relayed = new URL(await consent(h, await startFlow(id, admin)));
    relayed.searchParams.delete("iss");
    expect((await relay(relayed.href, admin)).body).toMatchObject({ success: false, error: "iss_mismatch" });
    const wrong = new URL(await consent(h, await startFlow(id, admin)));
    wrong.searchParams.set("iss", "https://github.com/login/oauth");
    expect((await callCallback(wrong.href)).headers.get("location")).toBe(errorLocation("iss_mismatch", id));
    expect(tokenRequests(h).length).toBe(before);
    // With iss as sent, it completes.
    const fine = await callCallback(await consent(h, await startFlow(id, admin)));
    expect(fine.headers.get("location")).toContain(`/connector/${id}`);
    // A provider not marked sendsIss may omit it.
    const quiet = await newConnector();
    const omitted = new URL(await consent(h, await startFlow(quiet, admin)));
    omitted.searchParams.delete("iss");
    expect((await callCallback(omitted.href)).headers.get("location")).toContain(`/connector/${quiet}`);
  });
});
