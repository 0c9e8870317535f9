/**
 * Real callbacks for every catalog provider against a local stand-in of its token endpoint, through
 * the real handlers, dynalite and the local KMS. The stand-in answers the way that provider answers
 * (status, content type, body shape, error style) and refuses a request the provider would refuse
 * (client authentication, body format, headers, PKCE). PROVIDER_OVERRIDES points each catalog key
 * at it; templated overrides prove the connector's parameter reaches the URL.
 */
import { once } from "node:events";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { type ConnectorRecord, openTokenSet, type ProviderOverrides, providers } from "@connector-oauth/core";
import { generateKeyPair, SignJWT } from "jose";
import * as oauth from "oauth4webapi";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { APP_ORIGIN, authorize, callCallback, type Harness, startHarness } from "./support/harness.ts";

import {
  type Answer,
  CUSTOM_ISSUER,
  form,
  type Issued,
  json,
  oauthError,
  type Spec,
  specs,
  TENANT,
} from "./support/provider-models.ts";

/** The template segment a key's overridden URLs carry, e.g. {instance}. */
function templateSegment(key: string): string {
  const name = Object.keys(specs[key]?.params ?? {})[0];
  return name ? `/{${name}}` : "";
}

// ---- The stand-in token endpoint ----

interface Expectation {
  key: string;
  spec: Spec;
  clientId: string;
  secret: string;
  challenge: string | null;
  /** The provider's answer once the request is accepted (default: the spec's success). */
  respond?: (issued: Issued) => Answer;
}

interface Seen {
  code: string;
  path: string;
  refused?: string;
}

function readRequest(request: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    let text = "";
    request.setEncoding("utf8");
    request.on("data", (chunk: string) => {
      text += chunk;
    });
    request.on("end", () => resolve(text));
  });
}

function parseBody(contentType: string, text: string): Record<string, string> | undefined {
  if (contentType.startsWith("application/x-www-form-urlencoded"))
    return Object.fromEntries(new URLSearchParams(text));
  if (!contentType.startsWith("application/json")) return undefined;
  try {
    return JSON.parse(text) as Record<string, string>;
  } catch {
    return undefined;
  }
}

/** Why the provider would refuse this request, or undefined when it would accept it. */
async function refusal(
  e: Expectation,
  request: IncomingMessage,
  body: Record<string, string> | undefined,
  callbackUrl: string,
): Promise<string | undefined> {
  const type = request.headers["content-type"] ?? "";
  const wanted = e.spec.format === "json" ? "application/json" : "application/x-www-form-urlencoded";
  if (request.method !== "POST" || !type.startsWith(wanted) || !body) return `not a ${e.spec.format} POST`;
  if (body.grant_type !== "authorization_code" || body.redirect_uri !== callbackUrl)
    return "wrong grant or redirect_uri";
  const basic = `Basic ${Buffer.from(`${e.clientId}:${e.secret}`).toString("base64")}`;
  if (e.spec.auth === "basic" && (request.headers.authorization !== basic || "client_secret" in body)) {
    return "client not authenticated with plain HTTP Basic";
  }
  if (
    e.spec.auth === "post" &&
    (body.client_id !== e.clientId || body.client_secret !== e.secret || request.headers.authorization)
  ) {
    return "client not authenticated in the body";
  }
  for (const [name, value] of Object.entries(e.spec.headers ?? {})) {
    if (request.headers[name] !== value) return `header ${name} missing`;
  }
  if (!e.spec.pkce) return "code_verifier" in body ? "unexpected code_verifier" : undefined;
  const verifier = body.code_verifier ?? "";
  const challenge = verifier && (await oauth.calculatePKCECodeChallenge(verifier));
  return challenge === e.challenge ? undefined : "code_verifier does not match the challenge";
}

/** Notion validates its JSON body: nothing beyond the documented fields. */
function strictJson(e: Expectation, body: Record<string, string> | undefined): string | undefined {
  if (e.spec.format !== "json" || !body) return undefined;
  const extra = Object.keys(body).filter((name) => !["grant_type", "code", "redirect_uri"].includes(name));
  return extra.length ? `body.${extra.join(", body.")} should not be present` : undefined;
}

function startStandIn(
  callbackUrl: () => string,
  tokens: (e: Expectation, accept: string) => Promise<Issued>,
) {
  const expectations = new Map<string, Expectation>();
  const seen: Seen[] = [];
  const server: Server = createServer(async (request, response) => {
    const text = await readRequest(request);
    const body = parseBody(request.headers["content-type"] ?? "", text);
    const code = body?.code ?? "";
    const e = expectations.get(code);
    const why = e
      ? ((await refusal(e, request, body, callbackUrl())) ?? strictJson(e, body))
      : "unknown code";
    seen.push({ code, path: request.url ?? "", refused: why });
    const answer =
      !e || why
        ? oauthError(400, "invalid_request", why ?? "refused")
        : (e.respond ?? e.spec.success)(await tokens(e, request.headers.accept ?? ""));
    response.writeHead(answer.status, { "content-type": answer.contentType });
    response.end(answer.body);
  });
  return { server, expectations, seen };
}

// ---- The tests ----

let h: Harness;
let adminToken: string;
let standIn: ReturnType<typeof startStandIn>;
let base: string;
let counter = 0;
let signingKey: CryptoKey;

async function issue(e: Expectation, accept: string): Promise<Issued> {
  const n = ++counter;
  const idToken = (issuer: string) =>
    new SignJWT({ email: "alice@example.com", email_verified: true })
      .setProtectedHeader({ alg: "RS256" })
      .setIssuer(issuer)
      .setAudience(e.clientId)
      .setSubject("alice")
      .setIssuedAt()
      .setExpirationTime("1h")
      .sign(signingKey);
  return {
    ...{ key: e.key, clientId: e.clientId, issuer: `${base}/${e.key}`, accept },
    access: `${e.key}-access-${n}`,
    refresh: `${e.key}-refresh-${n}`,
    // Signed with the issuer the real provider uses (Google: its issuer identifier).
    idToken: await idToken(e.spec.iss ?? `${base}/${e.key}`),
    tenantIdToken: await idToken(`https://login.microsoftonline.com/${TENANT}/v2.0`),
  };
}

function overrides(): ProviderOverrides {
  const entries = Object.keys(providers).map((key) => {
    const root = `${base}/${key}${templateSegment(key)}`;
    // Endpoints only: the issuer stays the catalog's, so the iss a stand-in sends (the real
    // provider's) must match the catalog's issuer for the connect to succeed.
    return [key, { authorizationUrl: `${root}/authorize`, tokenUrl: `${root}/token` }];
  });
  return Object.fromEntries(entries);
}

beforeAll(async () => {
  const keys = await generateKeyPair("RS256");
  signingKey = keys.privateKey;
  standIn = startStandIn(() => h.callbackUrl, issue);
  standIn.server.listen(0, "127.0.0.1");
  await once(standIn.server, "listening");
  base = `http://127.0.0.1:${(standIn.server.address() as AddressInfo).port}`;
  h = await startHarness({ overrides });
  adminToken = await h.token({ sub: "alice", orgId: "acme", role: "admin", email: "alice@example.com" });
});
afterAll(async () => {
  await h?.close();
  standIn?.server.close();
});

const credentials = (key: string) => ({ clientId: `${key}-client.id_1`, secret: `s3cr3t+/=${key}~` });

async function defineConnector(key: string): Promise<string> {
  const connectorId = `${key}-${++counter}`;
  const { clientId, secret } = credentials(key);
  const custom = key === "oauth2";
  await h.define([
    {
      ...{
        connectorId,
        orgId: "acme",
        provider: key,
        scope: "team",
        createdBy: "alice",
        clientId,
        clientSecret: secret,
      },
      ...(specs[key]?.params ? { params: specs[key]?.params } : {}),
      ...(custom
        ? {
            scopes: ["read"],
            endpoints: {
              authorizationUrl: `${base}/oauth2/authorize`,
              tokenUrl: `${base}/oauth2/token`,
              issuer: CUSTOM_ISSUER,
            },
          }
        : {}),
    },
  ]);
  return connectorId;
}

/** Starts a flow as the app does, then comes back to the callback as the provider would. */
async function connect(key: string, respond?: Expectation["respond"], callback: Record<string, string> = {}) {
  const spec = specs[key] as Spec;
  const connectorId = await defineConnector(key);
  const started = await authorize(h, connectorId, adminToken);
  expect(started.status).toBe(200);
  const authorizationUrl = new URL(started.body.authorizationUrl as string);
  const filled = templateSegment(key).replace(/\{(\w+)\}/, (_, name: string) => spec.params?.[name] ?? "");
  expect(`${authorizationUrl.origin}${authorizationUrl.pathname}`).toBe(`${base}/${key}${filled}/authorize`);
  expect(authorizationUrl.searchParams.has("code_challenge")).toBe(spec.pkce);
  const code = `code-${key}-${++counter}`;
  standIn.expectations.set(code, {
    ...{ key, spec, respond, ...credentials(key) },
    challenge: authorizationUrl.searchParams.get("code_challenge"),
  });
  const url = new URL(h.callbackUrl);
  url.searchParams.set("code", code);
  url.searchParams.set("state", started.body.state as string);
  if (spec.iss) url.searchParams.set("iss", spec.iss);
  for (const [name, value] of Object.entries(callback)) url.searchParams.set(name, value);
  const response = await callCallback(url.href);
  return { connectorId, response, requests: standIn.seen.filter((r) => r.code === code) };
}

async function stored(connectorId: string): Promise<ConnectorRecord> {
  const record = await h.connectors.get("acme", connectorId);
  if (!record) throw new Error(`connector ${connectorId} is missing`);
  return record;
}

function failedTo(connectorId: string, code: string) {
  return `${APP_ORIGIN}/connectors/oauth/callback?oauth_error=${code}&connectorId=${connectorId}`;
}

async function expectNothingStored(connectorId: string) {
  const record = await stored(connectorId);
  expect(record.status).toBe("not_connected");
  expect(record.tokens).toBeUndefined();
}

describe("callback against each provider's token endpoint", () => {
  it("covers every catalog provider and the custom one", () => {
    expect(Object.keys(specs).sort()).toEqual([...Object.keys(providers), "oauth2"].sort());
  });

  it.each(Object.keys(specs))("stores %s's token set and metadata", async (key) => {
    const spec = specs[key] as Spec;
    const before = Date.now();
    const { connectorId, response, requests } = await connect(key);
    expect(requests.map((r) => r.refused)).toEqual([undefined]);
    expect(requests[0]?.path).toBe(
      `/${key}${templateSegment(key).replace(/\{(\w+)\}/, (_, name: string) => spec.params?.[name] ?? "")}/token`,
    );
    expect(response.status).toBe(302);
    expect(response.headers.get("location")).toBe(
      `${APP_ORIGIN}/account/company-settings/settings/connector/${connectorId}`,
    );
    const record = await stored(connectorId);
    expect(record.status).toBe("authenticated");
    const tokens = record.tokens as NonNullable<ConnectorRecord["tokens"]>;
    expect(tokens.metadata).toEqual(spec.expected.metadata);
    expect(tokens.scopes).toEqual(spec.expected.scopes);
    expect(tokens.tokenType).toBe("bearer");
    if (spec.expected.expiresIn === undefined) expect(tokens.expiresAt).toBeUndefined();
    else {
      const expiresAt = Date.parse(tokens.expiresAt ?? "");
      expect(expiresAt).toBeGreaterThanOrEqual(before + spec.expected.expiresIn * 1000);
      expect(expiresAt).toBeLessThanOrEqual(Date.now() + spec.expected.expiresIn * 1000);
    }
    const secrets = await openTokenSet(h.dataKeys, record);
    expect(secrets.accessToken).toMatch(new RegExp(`^${key}-access-\\d+$`));
    expect(secrets.refreshToken === undefined).toBe(!spec.expected.refresh);
    if (spec.expected.refresh)
      expect(secrets.refreshToken).toBe(secrets.accessToken.replace("-access-", "-refresh-"));
    expect(secrets.idToken !== undefined).toBe(spec.expected.idToken === true);
  });

  it.each(Object.keys(specs))(
    "maps %s's token error to token_exchange_failed and stores nothing",
    async (key) => {
      const { connectorId, response, requests } = await connect(key, () => (specs[key] as Spec).error);
      expect(requests.map((r) => r.refused)).toEqual([undefined]);
      expect(response.status).toBe(302);
      expect(response.headers.get("location")).toBe(failedTo(connectorId, "token_exchange_failed"));
      await expectNothingStored(connectorId);
    },
  );
});

describe("provider answers outside the token response format", () => {
  it("reads GitHub's form-encoded answer when JSON was not honoured", async () => {
    const github = specs.github as Spec;
    const { connectorId, response } = await connect("github", (t) => github.success({ ...t, accept: "*/*" }));
    expect(response.headers.get("location")).toMatch(/\/settings\/connector\//);
    const record = await stored(connectorId);
    expect(record.tokens?.scopes).toEqual(["repo", "read:org"]);
    expect((await openTokenSet(h.dataKeys, record)).accessToken).toMatch(/^github-access-/);
  });

  it("maps GitHub's form-encoded HTTP 200 error to token_exchange_failed", async () => {
    const { connectorId, response } = await connect("github", () =>
      form({ error: "bad_verification_code", error_description: "The code passed is incorrect or expired." }),
    );
    expect(response.headers.get("location")).toBe(failedTo(connectorId, "token_exchange_failed"));
    await expectNothingStored(connectorId);
  });

  it("maps an HTML page answered with HTTP 200 to token_exchange_failed", async () => {
    const { connectorId, response } = await connect("zendesk", () => ({
      status: 200,
      contentType: "text/html",
      body: "<html>Sign in</html>",
    }));
    expect(response.headers.get("location")).toBe(failedTo(connectorId, "token_exchange_failed"));
    await expectNothingStored(connectorId);
  });

  it("maps a Slack answer without a user token to token_exchange_failed", async () => {
    const { connectorId, response } = await connect("slack", () =>
      json({ ok: true, authed_user: { id: "U1" }, team: { id: "T1" } }),
    );
    expect(response.headers.get("location")).toBe(failedTo(connectorId, "token_exchange_failed"));
    await expectNothingStored(connectorId);
  });
});

describe("issuer on the callback", () => {
  it("connects GitHub, whose callbacks carry iss=https://github.com/login/oauth (since 2026-04-09)", async () => {
    expect(specs.github?.iss).toBe("https://github.com/login/oauth");
    const { connectorId, response, requests } = await connect("github");
    expect(requests.map((r) => r.refused)).toEqual([undefined]);
    expect(response.headers.get("location")).toMatch(/\/settings\/connector\//);
    expect((await stored(connectorId)).status).toBe("authenticated");
  });

  it("refuses an iss from another issuer before any token request", async () => {
    const { connectorId, response, requests } = await connect("gmail", undefined, {
      iss: "https://evil.example.com",
    });
    expect(response.headers.get("location")).toBe(failedTo(connectorId, "iss_mismatch"));
    expect(requests).toEqual([]);
    await expectNothingStored(connectorId);
  });

  it("refuses an iss sent for a provider that publishes no issuer", async () => {
    const { connectorId, response, requests } = await connect("slack", undefined, {
      iss: "https://slack.com",
    });
    expect(response.headers.get("location")).toBe(failedTo(connectorId, "iss_mismatch"));
    expect(requests).toEqual([]);
    await expectNothingStored(connectorId);
  });
});
