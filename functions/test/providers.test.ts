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
import { dynamoLeaseStore } from "@connector-oauth/aws";
import {
  type ConnectorRecord,
  createTokenAccess,
  openTokenSet,
  type ProviderOverrides,
  providers,
} from "@connector-oauth/core";
import { APP_ORIGIN, authorize, callCallback, type Harness, startHarness } from "@connector-oauth/test-kit";
import { generateKeyPair, SignJWT } from "jose";
import * as oauth from "oauth4webapi";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

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
  /** The code, or the token a refresh or revocation carried. */
  code: string;
  path: string;
  refused?: string;
  kind?: "refresh" | "revocation";
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

/** Why the provider would refuse this client's authentication, or undefined. */
function clientRefusal(e: Expectation, request: IncomingMessage, body: Record<string, string>) {
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
  return undefined;
}

function formatRefusal(e: Expectation, request: IncomingMessage, body: Record<string, string> | undefined) {
  const type = request.headers["content-type"] ?? "";
  const wanted = e.spec.format === "json" ? "application/json" : "application/x-www-form-urlencoded";
  return request.method !== "POST" || !type.startsWith(wanted) || !body
    ? `not a ${e.spec.format} POST`
    : undefined;
}

/** Why the provider would refuse this code exchange, or undefined when it would accept it. */
async function refusal(
  e: Expectation,
  request: IncomingMessage,
  body: Record<string, string> | undefined,
  callbackUrl: string,
): Promise<string | undefined> {
  const format = formatRefusal(e, request, body);
  if (format || !body) return format;
  if (body.grant_type !== "authorization_code" || body.redirect_uri !== callbackUrl)
    return "wrong grant or redirect_uri";
  const client = clientRefusal(e, request, body) ?? requiredFields(body, e.spec.requires?.exchange);
  if (client) return client;
  if (!e.spec.pkce) return "code_verifier" in body ? "unexpected code_verifier" : undefined;
  const verifier = body.code_verifier ?? "";
  const challenge = verifier && (await oauth.calculatePKCECodeChallenge(verifier));
  return challenge === e.challenge ? undefined : "code_verifier does not match the challenge";
}

/** Fixed fields a provider requires in the body (Basecamp's `type`). */
function requiredFields(body: Record<string, string>, required: Record<string, string> = {}) {
  const missing = Object.entries(required).filter(([name, value]) => body[name] !== value);
  return missing.length
    ? `body needs ${missing.map(([name, value]) => `${name}=${value}`).join(", ")}`
    : undefined;
}

/** Notion validates its JSON body: nothing beyond the documented fields. */
function strictJson(e: Expectation, body: Record<string, string> | undefined, allowed: string[]) {
  if (e.spec.format !== "json" || !body) return undefined;
  const extra = Object.keys(body).filter((name) => !allowed.includes(name));
  return extra.length ? `body.${extra.join(", body.")} should not be present` : undefined;
}

/** One grant at the stand-in: its tokens, whether it was revoked, when its access token expires. */
interface Grant {
  e: Expectation;
  access: string;
  refresh: string;
  revoked: boolean;
  accessExpiresAt: number;
}

/** The stand-in's clock, shifted like the service's in tests that let tokens expire. */
let clockShiftMs = 0;
const standInNow = () => Date.now() + clockShiftMs;

/** The token a revocation request carries in the provider's own form, or why it is refused. */
function revocationToken(
  e: Expectation,
  request: IncomingMessage,
  text: string,
  body: Record<string, string> | undefined,
  url: URL,
): { token?: string; refused?: string } {
  const bearer = /^Bearer (.+)$/.exec(request.headers.authorization ?? "")?.[1];
  switch (e.spec.revocation?.takes) {
    case "bearer":
      if (request.method !== "POST" || !bearer) return { refused: "no Bearer access token" };
      return text ? { refused: "unexpected body" } : { token: bearer };
    case "field": {
      if (request.method !== "POST") return { refused: "not a POST" };
      if (bearer && !text) return { token: bearer };
      const fields = Object.keys(body ?? {});
      const named = fields.length === 1 && ["access_token", "refresh_token"].includes(fields[0] ?? "");
      return named && body
        ? { token: body[fields[0] as string] }
        : { refused: "expected access_token= or refresh_token=" };
    }
    case "query": {
      const token = url.searchParams.get("token");
      return token ? { token } : { refused: "no ?token=" };
    }
    case "rfc7009": {
      const format = formatRefusal(e, request, body);
      if (format || !body) return { refused: format };
      return { refused: clientRefusal(e, request, body), token: body.token };
    }
    default:
      return { refused: "no revocation endpoint" };
  }
}

function startStandIn(
  callbackUrl: () => string,
  tokens: (e: Expectation, accept: string) => Promise<Issued>,
) {
  const expectations = new Map<string, Expectation>();
  const grants = new Map<string, Grant>();
  const seen: Seen[] = [];
  /** New tokens for a new grant, or for `existing` on refresh (the old ones stop working). */
  const grant = async (e: Expectation, accept: string, existing?: Grant) => {
    const issued = await tokens(e, accept);
    const expiresIn = e.spec.expected.expiresIn;
    const accessExpiresAt =
      expiresIn === undefined ? Number.POSITIVE_INFINITY : standInNow() + expiresIn * 1000;
    const refresh = existing && e.spec.keepsRefreshToken ? existing.refresh : issued.refresh;
    const g: Grant = Object.assign(existing ?? { e, revoked: false }, {
      access: issued.access,
      refresh,
      accessExpiresAt,
    });
    grants.set(issued.access, g);
    grants.set(refresh, g);
    return issued;
  };
  const exchange = async (request: IncomingMessage, body: Record<string, string> | undefined) => {
    const code = body?.code ?? "";
    const e = expectations.get(code);
    const why = e
      ? ((await refusal(e, request, body, callbackUrl())) ??
        strictJson(e, body, ["grant_type", "code", "redirect_uri"]))
      : "unknown code";
    seen.push({ code, path: request.url ?? "", refused: why });
    return !e || why
      ? oauthError(400, "invalid_request", why ?? "refused")
      : (e.respond ?? e.spec.success)(await grant(e, request.headers.accept ?? ""));
  };
  const refresh = async (request: IncomingMessage, body: Record<string, string>) => {
    const g = grants.get(body.refresh_token ?? "");
    const why = !g
      ? "unknown refresh token"
      : (formatRefusal(g.e, request, body) ??
        clientRefusal(g.e, request, body) ??
        strictJson(g.e, body, ["grant_type", "refresh_token"]) ??
        requiredFields(body, g.e.spec.requires?.refresh) ??
        (g.e.spec.refreshPath && !request.url?.startsWith(g.e.spec.refreshPath)
          ? "not the refresh endpoint"
          : undefined) ??
        (g.revoked || g.refresh !== body.refresh_token ? "refresh token revoked or replaced" : undefined));
    seen.push({ code: body.refresh_token ?? "", path: request.url ?? "", refused: why, kind: "refresh" });
    if (!g || why) return g?.revoked ? g.e.spec.error : oauthError(400, "invalid_request", why ?? "refused");
    const issued = await grant(g.e, request.headers.accept ?? "", g);
    return (g.e.spec.refresh ?? g.e.spec.success)(issued);
  };
  const revoke = (
    request: IncomingMessage,
    text: string,
    body: Record<string, string> | undefined,
    url: URL,
  ) => {
    const key = url.pathname.split("/")[1] ?? "";
    const e = specs[key] && { key, spec: specs[key] as Spec, ...credentials(key), challenge: null };
    const { token, refused } = e
      ? revocationToken(e, request, text, body, url)
      : { refused: "unknown provider" };
    const g = grants.get(token ?? "");
    const current = g && (token === g.access || token === g.refresh);
    const live = g && current && !g.revoked && (token !== g.access || g.accessExpiresAt > standInNow());
    const why = refused ?? (live ? undefined : "token unknown, expired or revoked");
    seen.push({ code: token ?? "", path: url.pathname, refused: why, kind: "revocation" });
    if (why || !g) return e?.spec.revocation?.refused ?? oauthError(400, "invalid_request", why ?? "refused");
    g.revoked = true;
    return e?.spec.revocation?.revoked ?? { status: 200, contentType: "text/plain", body: "" };
  };
  const server: Server = createServer(async (request, response) => {
    const text = await readRequest(request);
    const url = new URL(request.url ?? "/", "http://stand-in");
    const body = parseBody(request.headers["content-type"] ?? "", text);
    const answer = url.pathname.endsWith("/revoke")
      ? revoke(request, text, body, url)
      : body?.grant_type === "refresh_token"
        ? await refresh(request, body)
        : await exchange(request, body);
    const sent = answer ?? oauthError(400, "invalid_grant", "refused");
    response.writeHead(sent.status, { "content-type": sent.contentType });
    response.end(sent.body);
  });
  return { server, expectations, grants, seen };
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
    key: e.key,
    clientId: e.clientId,
    issuer: `${base}/${e.key}`,
    accept,
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
    const revocation = providers[key]?.revocationUrl ? { revocationUrl: `${root}/revoke` } : {};
    const refresh = providers[key]?.refreshUrl ? { refreshUrl: `${root}/refresh` } : {};
    // Identity endpoints stay on the stand-in too (no request leaves 127.0.0.1); it does not model
    // them, so the account is left unrecorded (best effort, identity.ts).
    const identity =
      providers[key]?.identity?.source === "endpoint" ? { identityUrl: `${root}/identity` } : {};
    const urls = { authorizationUrl: `${root}/authorize`, tokenUrl: `${root}/token` };
    return [key, { ...urls, ...revocation, ...refresh, ...identity }];
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
      connectorId,
      orgId: "acme",
      provider: key,
      scope: "team",
      createdBy: "alice",
      clientId,
      clientSecret: secret,
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
    key,
    spec,
    respond,
    ...credentials(key),
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
    // Its identity endpoint was asked on the stand-in, not on api.github.com.
    expect(standIn.seen.some((r) => r.path === "/github/identity")).toBe(true);
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

// ---- After the connect: refresh and revocation, each in the provider's own contract ----

/** Token access over the harness, with the stand-in's endpoints and the clock shifted by clockShiftMs. */
function access() {
  return createTokenAccess({
    connectors: h.connectors,
    leases: dynamoLeaseStore(h.services.dynamo, h.services.tableName),
    dataKeys: h.dataKeys,
    catalog: { catalog: providers, overrides: overrides(), allowLoopbackHttp: true },
    now: standInNow,
    sleep: async () => {},
    log: { info: () => {}, warn: () => {}, error: () => {} },
  });
}

const refreshing = Object.keys(specs).filter((key) => key !== "oauth2" && specs[key]?.expected.refresh);
const revoking = Object.keys(specs).filter((key) => specs[key]?.revocation);

describe("refresh and revocation against each provider's stand-in", () => {
  it("models a revocation contract exactly where the catalog names a revocation endpoint", () => {
    const withEndpoint = Object.keys(providers).filter((key) => providers[key]?.revocationUrl);
    expect(revoking.sort()).toEqual(withEndpoint.sort());
  });

  it.each(refreshing)("refreshes %s's tokens with its refresh grant", async (key) => {
    const { connectorId } = await connect(key);
    const before = (await openTokenSet(h.dataKeys, await stored(connectorId))).accessToken;
    const token = await access().refresh("acme", connectorId);
    const sent = standIn.seen.filter((r) => r.kind === "refresh" && r.path.startsWith(`/${key}/`));
    expect(sent.at(-1)?.refused).toBeUndefined();
    expect(token.accessToken).toMatch(new RegExp(`^${key}-access-\\d+$`));
    expect(token.accessToken).not.toBe(before);
    const secrets = await openTokenSet(h.dataKeys, await stored(connectorId));
    expect(secrets.refreshToken).toBe(
      specs[key]?.keepsRefreshToken
        ? before.replace("-access-", "-refresh-")
        : token.accessToken.replace("-access-", "-refresh-"),
    );
  });

  it.each(revoking)("revokes %s's grant in the provider's own form on disconnect", async (key) => {
    const { connectorId } = await connect(key);
    const secrets = await openTokenSet(h.dataKeys, await stored(connectorId));
    const result = await access().disconnect("acme", connectorId, "alice");
    expect(result.revocation).toBe("revoked");
    expect(standIn.grants.get(secrets.accessToken)?.revoked).toBe(true);
    expect((await stored(connectorId)).tokens).toBeUndefined();
  });

  it("refuses RFC 7009's token= at Dropbox and Linear, so only their own form revokes", async () => {
    for (const key of ["dropbox", "linear"]) {
      const { connectorId } = await connect(key);
      const { accessToken } = await openTokenSet(h.dataKeys, await stored(connectorId));
      const response = await fetch(`${base}/${key}/revoke`, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ token: accessToken, token_type_hint: "access_token" }),
      });
      expect(response.status).toBeGreaterThanOrEqual(400);
      expect(standIn.grants.get(accessToken)?.revoked).toBe(false);
    }
  });

  it("refreshes an expired Slack token before revoking it, since auth.revoke needs a live one", async () => {
    const { connectorId } = await connect("slack");
    const old = await openTokenSet(h.dataKeys, await stored(connectorId));
    clockShiftMs = 13 * 3600_000;
    try {
      const result = await access().disconnect("acme", connectorId, "alice");
      expect(result.revocation).toBe("revoked");
    } finally {
      clockShiftMs = 0;
    }
    const grant = standIn.grants.get(old.accessToken);
    expect(grant?.revoked).toBe(true);
    expect(grant?.access).not.toBe(old.accessToken);
    const slackCalls = standIn.seen.filter((r) => r.path.startsWith("/slack/") && r.kind);
    expect(slackCalls.slice(-2).map((r) => [r.kind, r.refused])).toEqual([
      ["refresh", undefined],
      ["revocation", undefined],
    ]);
  });
});
