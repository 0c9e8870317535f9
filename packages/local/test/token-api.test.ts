/**
 * The token API for sync workers over HTTP with real components: the local API's IAM authorizer
 * (SigV4 against the local credentials), the handler as deployed, dynalite, the local KMS and the
 * demo provider. Unsigned, foreign-signed and wrongly scoped requests are refused; a signed one gets
 * a token the provider accepts; concurrent callers on an expiring token cause one refresh.
 */
import { UpdateItemCommand } from "@aws-sdk/client-dynamodb";
import { marshall } from "@aws-sdk/util-dynamodb";
import { type ConnectorRecord, openTokenSet } from "@connector-oauth/core";
import { appRoutes } from "@connector-oauth/functions";
import {
  authorize,
  CLIENT,
  callCallback,
  demoConnector,
  type Harness,
  loginAtProvider,
  startHarness,
} from "@connector-oauth/test-kit";
import type { APIGatewayProxyEventV2 } from "aws-lambda";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LOCAL_USER_ARN } from "../src/api-server.ts";
import { type Credentials, signSigV4 } from "../src/sigv4.ts";

let h: Harness;
let ids = 0;
const nextId = () => `token-api-${++ids}`;
/** Every access token the API handed out, to look for in the logs. */
const served: string[] = [];

const tokenPath = (orgId: string, connectorId: string) =>
  `/internal/orgs/${orgId}/connectors/${connectorId}/access-token`;

/** POSTs to the token API, signed (SigV4) with `credentials` for `service` unless unsigned. */
async function callTokenApi(
  path: string,
  sign: { credentials?: Credentials; service?: string } = { credentials: h.services.credentials },
) {
  const url = new URL(path, h.api.url);
  const request = {
    method: "POST",
    url: url.href,
    headers: { "content-type": "application/json" },
    body: "{}",
  };
  const region = "us-east-1";
  const signed: Record<string, string> = sign.credentials
    ? await signSigV4(request, sign.credentials, { region, service: sign.service ?? "execute-api" })
    : request.headers;
  // fetch sets Host itself (the same value the signature covers).
  const { host: _host, ...sent } = signed;
  const response = await fetch(url, { method: "POST", headers: sent, body: "{}" });
  const body = (await response.json()) as Record<string, unknown>;
  if (typeof body.accessToken === "string") served.push(body.accessToken);
  return { status: response.status, body };
}

async function connect(connectorId: string): Promise<ConnectorRecord> {
  await h.define([demoConnector(h.provider, { connectorId, orgId: "acme" })]);
  const admin = await h.token({ sub: "alice", orgId: "acme", role: "admin" });
  const started = await authorize(h, connectorId, admin);
  const callbackUrl = await loginAtProvider(started.body.authorizationUrl as string, "alice", h.callbackUrl);
  expect((await callCallback(callbackUrl)).headers.get("location")).not.toContain("oauth_error");
  return (await h.connectors.get("acme", connectorId)) as ConnectorRecord;
}

/** An hour-long token obtained 58 minutes ago: it expires within the 5-minute margin. */
async function ageToken(connectorId: string) {
  await h.services.dynamo.send(
    new UpdateItemCommand({
      TableName: h.services.tableName,
      Key: marshall({ pk: "ORG#acme", sk: `CONNECTOR#${connectorId}` }),
      UpdateExpression: "SET tokens.obtainedAt = :obtained, tokens.expiresAt = :expires",
      ExpressionAttributeValues: marshall({
        ":obtained": new Date(Date.now() - 58 * 60_000).toISOString(),
        ":expires": new Date(Date.now() + 2 * 60_000).toISOString(),
      }),
    }),
  );
}

const refreshRequests = () =>
  h.provider.requests.filter((r) => r.path === "/token" && r.grantType === "refresh_token");

async function userinfo(accessToken: string) {
  const response = await fetch(`${h.provider.issuer}/me`, {
    headers: { authorization: `Bearer ${accessToken}` },
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

const logLines = (message: string) =>
  h.logs
    .flatMap((chunk) => chunk.split("\n"))
    .filter((line) => line.includes(`"${message}"`))
    .map((line) => JSON.parse(line) as Record<string, unknown>);

beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h?.close());

describe("token API authorization", () => {
  it("refuses an unsigned request with 403 forbidden before the handler runs", async () => {
    const id = await connect(nextId());
    const answer = await callTokenApi(tokenPath("acme", id.connectorId), {});
    expect(answer).toMatchObject({ status: 403, body: { success: false, error: { code: "forbidden" } } });
    // The local authorizer's refusal, not the handler's own (which it also has, tested below).
    expect(answer.body.error).toMatchObject({ message: expect.stringContaining("local credentials") });
    expect(answer.body.accessToken).toBeUndefined();
  });

  it("refuses a request signed with a wrong secret, an unknown key or for another service", async () => {
    const { connectorId } = await connect(nextId());
    const path = tokenPath("acme", connectorId);
    const { accessKeyId, secretAccessKey } = h.services.credentials;
    for (const sign of [
      { credentials: { accessKeyId, secretAccessKey: `${secretAccessKey}x` } },
      { credentials: { accessKeyId: "AKIAOTHERKEY0000000", secretAccessKey } },
      { credentials: h.services.credentials, service: "kms" },
    ]) {
      const answer = await callTokenApi(path, sign);
      expect(answer).toMatchObject({ status: 403, body: { success: false, error: { code: "forbidden" } } });
    }
  });

  it("refuses with 403 an event that did not pass the IAM authorizer (a route deployed without it)", async () => {
    const { connectorId } = await connect(nextId());
    const route = appRoutes(h.env).find((r) => r.name === "AccessToken");
    const event = {
      version: "2.0",
      rawPath: tokenPath("acme", connectorId),
      rawQueryString: "",
      headers: {},
      pathParameters: { orgId: "acme", connectorId },
      requestContext: { http: { method: "POST" } },
    } as unknown as APIGatewayProxyEventV2;
    const result = await route?.handler(event);
    expect(result?.statusCode).toBe(403);
    expect(JSON.parse(result?.body ?? "{}")).toMatchObject({ success: false, error: { code: "forbidden" } });
  });
});

describe("token API answers", () => {
  it("returns the stored token, its type, expiry, scopes and metadata to a signed caller; the provider accepts it", async () => {
    const record = await connect(nextId());
    const before = refreshRequests().length;
    const answer = await callTokenApi(tokenPath("acme", record.connectorId));
    const { accessToken } = await openTokenSet(h.dataKeys, record);
    expect(answer).toEqual({
      status: 200,
      body: {
        success: true,
        accessToken,
        tokenType: "bearer",
        expiresAt: record.tokens?.expiresAt,
        scopes: record.tokens?.scopes,
        metadata: {},
      },
    });
    expect(refreshRequests().length).toBe(before);
    expect(await userinfo(accessToken)).toMatchObject({ status: 200, body: { sub: "alice" } });
    expect(logLines("access token served").at(-1)).toEqual(
      expect.objectContaining({
        orgId: "acme",
        connectorId: record.connectorId,
        caller: LOCAL_USER_ARN,
        refreshed: false,
      }),
    );
  });

  it("answers 404 connector_not_found for an unknown connector, another org and an invalid id", async () => {
    const { connectorId } = await connect(nextId());
    for (const path of [
      tokenPath("acme", "no-such-connector"),
      tokenPath("globex", connectorId),
      tokenPath("acme", "a%20b"),
      tokenPath("acme", "x".repeat(200)),
      tokenPath("acme", "a%23b"),
    ]) {
      const answer = await callTokenApi(path);
      expect(answer).toMatchObject({
        status: 404,
        body: { success: false, error: { code: "connector_not_found" } },
      });
    }
  });

  it("answers 409 not_connected for a defined connector nobody connected", async () => {
    const connectorId = nextId();
    await h.define([demoConnector(h.provider, { connectorId, orgId: "acme" })]);
    const answer = await callTokenApi(tokenPath("acme", connectorId));
    expect(answer).toMatchObject({ status: 409, body: { success: false, error: { code: "not_connected" } } });
  });

  it("answers 409 needs_reauth when the provider rejects the refresh (grant revoked), and keeps answering it", async () => {
    const record = await connect(nextId());
    const { refreshToken } = await openTokenSet(h.dataKeys, record);
    const revoked = await fetch(h.provider.revocationUrl, {
      method: "POST",
      body: new URLSearchParams({
        token: refreshToken as string,
        client_id: CLIENT.clientId,
        client_secret: CLIENT.clientSecret,
      }),
    });
    expect(revoked.status).toBe(200);
    await ageToken(record.connectorId);
    const before = refreshRequests().length;
    const answer = await callTokenApi(tokenPath("acme", record.connectorId));
    expect(answer).toMatchObject({ status: 409, body: { success: false, error: { code: "needs_reauth" } } });
    expect(refreshRequests().length).toBe(before + 1);
    expect((await h.connectors.get("acme", record.connectorId))?.status).toBe("needs_reauth");
    const again = await callTokenApi(tokenPath("acme", record.connectorId));
    expect(again).toMatchObject({ status: 409, body: { error: { code: "needs_reauth" } } });
    expect(refreshRequests().length).toBe(before + 1);
  });

  it("answers 502 token_refresh_failed when the provider's token endpoint keeps failing", async () => {
    const record = await connect(nextId());
    await ageToken(record.connectorId);
    h.provider.faults.push(503, 503, 503);
    const answer = await callTokenApi(tokenPath("acme", record.connectorId));
    h.provider.faults.length = 0;
    expect(answer).toMatchObject({
      status: 502,
      body: { success: false, error: { code: "token_refresh_failed" } },
    });
    expect((await h.connectors.get("acme", record.connectorId))?.status).toBe("authenticated");
  });

  it("refreshes exactly once for 10 concurrent callers on an expiring token; all get the new token", async () => {
    const record = await connect(nextId());
    const { accessToken: old } = await openTokenSet(h.dataKeys, record);
    await ageToken(record.connectorId);
    const before = refreshRequests().length;
    const answers = await Promise.all(
      Array.from({ length: 10 }, () => callTokenApi(tokenPath("acme", record.connectorId))),
    );
    expect(answers.map((a) => a.status)).toEqual(Array(10).fill(200));
    expect(refreshRequests().length).toBe(before + 1);
    const tokens = new Set(answers.map((a) => a.body.accessToken));
    expect(tokens.size).toBe(1);
    const [fresh] = tokens as Set<string>;
    expect(fresh).not.toBe(old);
    expect(Date.parse(answers[0]?.body.expiresAt as string) - Date.now()).toBeGreaterThan(50 * 60_000);
    expect(await userinfo(fresh as string)).toMatchObject({ status: 200, body: { sub: "alice" } });
    const lines = logLines("access token served").filter((l) => l.connectorId === record.connectorId);
    expect(lines.length).toBe(10);
    expect(lines.some((l) => l.refreshed === true)).toBe(true);
  });

  it("never writes a token it served to the logs", () => {
    expect(served.length).toBeGreaterThanOrEqual(11);
    const logs = h.logs.join("\n");
    expect(logs).toContain("access token served");
    for (const token of served) expect(logs).not.toContain(token);
  });
});
