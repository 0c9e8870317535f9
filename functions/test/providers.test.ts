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

type Json = Record<string, unknown>;

interface Answer {
  status: number;
  contentType: string;
  body: string;
}

interface Spec {
  /** How the provider expects the client to authenticate and the body to be sent. */
  auth: "basic" | "post";
  format: "form" | "json";
  pkce: boolean;
  /** Connector parameters, and the template segment the override carries. */
  params?: Record<string, string>;
  /** The callback carries `iss` (the overridden issuer). */
  sendsIss?: boolean;
  /** Extra header checks: name -> exact value. */
  headers?: Record<string, string>;
  success(ctx: Issued): Answer;
  error: Answer;
  expected: {
    metadata: Record<string, string>;
    scopes: string[];
    expiresIn?: number;
    refresh: boolean;
    idToken?: boolean;
  };
}

interface Issued {
  key: string;
  clientId: string;
  issuer: string;
  access: string;
  refresh: string;
  idToken: string;
  tenantIdToken: string;
  accept: string;
}

const json = (body: Json, status = 200): Answer => ({
  status,
  contentType: "application/json; charset=utf-8",
  body: JSON.stringify(body),
});
const form = (body: Record<string, string>, status = 200): Answer => ({
  status,
  contentType: "application/x-www-form-urlencoded; charset=utf-8",
  body: new URLSearchParams(body).toString(),
});
const oauthError = (status: number, error: string, description: string) =>
  json({ error, error_description: description }, status);

const google: Spec = {
  ...{ auth: "post", format: "form", pkce: true, sendsIss: true },
  success: (t) =>
    json({
      access_token: t.access,
      expires_in: 3599,
      refresh_token: t.refresh,
      scope:
        "openid https://www.googleapis.com/auth/userinfo.email https://www.googleapis.com/auth/drive.readonly",
      token_type: "Bearer",
      id_token: t.idToken,
    }),
  error: oauthError(400, "invalid_grant", "Bad Request"),
  expected: {
    metadata: {},
    scopes: [
      "openid",
      "https://www.googleapis.com/auth/userinfo.email",
      "https://www.googleapis.com/auth/drive.readonly",
    ],
    expiresIn: 3599,
    refresh: true,
    idToken: true,
  },
};

const TENANT = "8eaef023-2b34-4da1-9baa-8bc8c9d6a490";
const microsoft: Spec = {
  ...{ auth: "post", format: "form", pkce: true, params: { tenant: TENANT } },
  // As if the operator added openid: the id_token's issuer names the user's tenant.
  success: (t) =>
    json({
      token_type: "Bearer",
      scope: "https://graph.microsoft.com/User.Read https://graph.microsoft.com/Files.Read.All",
      expires_in: 3599,
      ext_expires_in: 3599,
      access_token: t.access,
      refresh_token: t.refresh,
      id_token: t.tenantIdToken,
    }),
  error: json(
    {
      error: "invalid_grant",
      error_description: "AADSTS54005: OAuth2 Authorization code was already redeemed.",
      error_codes: [54005],
      trace_id: "0d3b6a4c",
      correlation_id: "6f2c",
    },
    400,
  ),
  expected: {
    metadata: {},
    scopes: ["https://graph.microsoft.com/User.Read", "https://graph.microsoft.com/Files.Read.All"],
    expiresIn: 3599,
    refresh: true,
    idToken: false,
  },
};

const atlassian: Spec = {
  ...{ auth: "post", format: "form", pkce: true },
  success: (t) =>
    json({
      access_token: t.access,
      expires_in: 3600,
      token_type: "Bearer",
      refresh_token: t.refresh,
      scope: "offline_access read:me read:jira-work",
    }),
  error: oauthError(403, "invalid_grant", "Invalid authorization code"),
  expected: {
    metadata: {},
    scopes: ["offline_access", "read:me", "read:jira-work"],
    expiresIn: 3600,
    refresh: true,
  },
};

const gitlabAnswer = (t: Issued) =>
  json({
    access_token: t.access,
    token_type: "Bearer",
    expires_in: 7200,
    refresh_token: t.refresh,
    scope: "read_api read_user read_repository",
    created_at: 1_607_635_748,
  });
const gitlabError = oauthError(400, "invalid_grant", "The provided authorization grant is invalid.");
const gitlabExpected = {
  metadata: {},
  scopes: ["read_api", "read_user", "read_repository"],
  expiresIn: 7200,
  refresh: true,
};

const salesforce: Spec = {
  ...{ auth: "post", format: "form", pkce: true },
  // No expires_in: Salesforce does not say.
  success: (t) =>
    json({
      access_token: t.access,
      refresh_token: t.refresh,
      signature: "CMJ4l+CCaPQiKjoOEwEig9H4wqhpuLSk4J2urAe+fVg=",
      scope: "refresh_token api",
      instance_url: "https://acme.my.salesforce.com",
      id: "https://login.salesforce.com/id/00Dx0000000BV7z/005x00000012Q9P",
      token_type: "Bearer",
      issued_at: "1278448101416",
    }),
  error: oauthError(400, "invalid_grant", "authentication failure"),
  expected: {
    metadata: {
      instanceUrl: "https://acme.my.salesforce.com",
      identityUrl: "https://login.salesforce.com/id/00Dx0000000BV7z/005x00000012Q9P",
    },
    scopes: ["refresh_token", "api"],
    refresh: true,
  },
};

const specs: Record<string, Spec> = {
  ...Object.fromEntries(
    Object.entries(providers)
      .filter(([, entry]) => entry.family === "google")
      .map(([key]) => [key, google]),
  ),
  ...Object.fromEntries(["outlook", "onedrive", "sharepoint", "teams"].map((key) => [key, microsoft])),
  confluence: atlassian,
  jira: atlassian,
  slack: {
    ...{ auth: "post", format: "form", pkce: false },
    success: (t) =>
      json({
        ok: true,
        app_id: "A0KRD7HC3",
        authed_user: {
          id: "U1234",
          scope: "channels:history,channels:read",
          access_token: t.access,
          token_type: "user",
          refresh_token: t.refresh,
          expires_in: 43200,
        },
        team: { id: "T9TK3CUKW", name: "Acme" },
        enterprise: null,
        is_enterprise_install: false,
      }),
    // Slack reports every failure as HTTP 200.
    error: json({ ok: false, error: "invalid_code" }),
    expected: {
      metadata: { teamId: "T9TK3CUKW", teamName: "Acme", userId: "U1234", appId: "A0KRD7HC3" },
      scopes: ["channels:history", "channels:read"],
      expiresIn: 43200,
      refresh: true,
    },
  },
  notion: {
    ...{ auth: "basic", format: "json", pkce: false, headers: { "notion-version": "2022-06-28" } },
    success: (t) =>
      json({
        access_token: t.access,
        token_type: "bearer",
        refresh_token: t.refresh,
        bot_id: "b3414d65-9f1a-4b0e-8f2b-1a2b3c4d5e6f",
        workspace_name: "Acme",
        workspace_icon: null,
        workspace_id: "ws-5f1c",
        owner: { type: "user", user: { object: "user", id: "u-7d2a" } },
        duplicated_template_id: null,
        request_id: "req-1",
      }),
    error: json({ error: "invalid_grant", error_description: "Invalid code.", request_id: "req-2" }, 400),
    expected: {
      metadata: {
        workspaceId: "ws-5f1c",
        workspaceName: "Acme",
        botId: "b3414d65-9f1a-4b0e-8f2b-1a2b3c4d5e6f",
        ownerUserId: "u-7d2a",
      },
      scopes: [],
      refresh: true,
    },
  },
  dropbox: {
    ...{ auth: "post", format: "form", pkce: true },
    success: (t) =>
      json({
        access_token: t.access,
        expires_in: 14400,
        token_type: "bearer",
        scope: "account_info.read files.content.read files.metadata.read sharing.read",
        refresh_token: t.refresh,
        account_id: "dbid:AAH4f99T0taONIb-OurWxbNQ6ywGRopQngc",
        uid: "12345",
      }),
    error: oauthError(400, "invalid_grant", "code doesn't exist or has expired"),
    expected: {
      metadata: { accountId: "dbid:AAH4f99T0taONIb-OurWxbNQ6ywGRopQngc", uid: "12345" },
      scopes: ["account_info.read", "files.content.read", "files.metadata.read", "sharing.read"],
      expiresIn: 14400,
      refresh: true,
    },
  },
  box: {
    ...{ auth: "post", format: "form", pkce: true },
    success: (t) =>
      json({
        access_token: t.access,
        expires_in: 3600,
        restricted_to: [],
        refresh_token: t.refresh,
        token_type: "bearer",
      }),
    error: oauthError(400, "invalid_grant", "Auth code doesn't exist or is invalid for the client"),
    expected: { metadata: {}, scopes: ["root_readonly"], expiresIn: 3600, refresh: true },
  },
  github: {
    ...{ auth: "post", format: "form", pkce: true },
    // GitHub answers JSON only when asked to; errors come as HTTP 200 either way.
    success: (t) => {
      const body = { access_token: t.access, token_type: "bearer", scope: "repo,read:org" };
      return t.accept.includes("application/json") ? json(body) : form(body);
    },
    error: json({
      error: "bad_verification_code",
      error_description: "The code passed is incorrect or expired.",
      error_uri:
        "https://docs.github.com/apps/managing-oauth-apps/troubleshooting-oauth-app-access-token-request-errors/#bad-verification-code",
    }),
    expected: { metadata: {}, scopes: ["repo", "read:org"], refresh: false },
  },
  gitlab: {
    auth: "post",
    format: "form",
    pkce: true,
    success: gitlabAnswer,
    error: gitlabError,
    expected: gitlabExpected,
  },
  "gitlab-self-managed": {
    ...{ auth: "post", format: "form", pkce: true, params: { host: "gitlab.acme.io" } },
    ...{ success: gitlabAnswer, error: gitlabError, expected: gitlabExpected },
  },
  linear: {
    ...{ auth: "post", format: "form", pkce: true },
    // Apps created before December 2023 get the granted scopes as a list.
    success: (t) =>
      json({
        access_token: t.access,
        token_type: "Bearer",
        expires_in: 86399,
        scope: ["read", "write"],
        refresh_token: t.refresh,
      }),
    error: oauthError(400, "invalid_grant", "Invalid authorization code"),
    expected: { metadata: {}, scopes: ["read", "write"], expiresIn: 86399, refresh: true },
  },
  salesforce,
  "salesforce-sandbox": salesforce,
  zoom: {
    ...{ auth: "basic", format: "form", pkce: true },
    success: (t) =>
      json({
        access_token: t.access,
        token_type: "bearer",
        refresh_token: t.refresh,
        expires_in: 3599,
        scope: "user:read:user meeting:read:list_meetings",
        api_url: "https://api.zoom.us",
      }),
    error: json({ reason: "Invalid authorization code", error: "invalid_request" }, 400),
    expected: {
      metadata: { apiUrl: "https://api.zoom.us" },
      scopes: ["user:read:user", "meeting:read:list_meetings"],
      expiresIn: 3599,
      refresh: true,
    },
  },
  servicenow: {
    ...{ auth: "post", format: "form", pkce: true, params: { instance: "acme" } },
    success: (t) =>
      json({
        access_token: t.access,
        refresh_token: t.refresh,
        scope: "useraccount",
        token_type: "Bearer",
        expires_in: 1799,
      }),
    error: json({ error_description: "access_denied", error: "server_error" }, 401),
    expected: { metadata: {}, scopes: ["useraccount"], expiresIn: 1799, refresh: true },
  },
  snowflake: {
    ...{ auth: "basic", format: "form", pkce: true, params: { account: "xy12345.us-east-2.aws" } },
    success: (t) =>
      json({
        access_token: t.access,
        refresh_token: t.refresh,
        token_type: "Bearer",
        username: "ALICE",
        scope: "refresh_token session:role:ANALYST",
        refresh_token_expires_in: 7_776_000,
        expires_in: 600,
        idpInitiated: false,
      }),
    error: json(
      {
        data: null,
        message: "Invalid consent request.",
        code: "390302",
        success: false,
        error: "invalid_grant",
      },
      400,
    ),
    expected: {
      metadata: { username: "ALICE" },
      scopes: ["refresh_token", "session:role:ANALYST"],
      expiresIn: 600,
      refresh: true,
    },
  },
  zendesk: {
    ...{ auth: "post", format: "form", pkce: true, params: { subdomain: "acme" } },
    success: (t) =>
      json({
        access_token: t.access,
        token_type: "bearer",
        scope: "read",
        refresh_token: t.refresh,
        expires_in: 172800,
        refresh_token_expires_in: 604800,
      }),
    error: oauthError(400, "invalid_grant", "The provided authorization grant is invalid"),
    expected: { metadata: {}, scopes: ["read"], expiresIn: 172800, refresh: true },
  },
  oauth2: {
    ...{ auth: "post", format: "form", pkce: true, sendsIss: true },
    success: (t) =>
      json({ access_token: t.access, token_type: "Bearer", expires_in: 3600, refresh_token: t.refresh }),
    error: oauthError(400, "invalid_grant", "grant request is invalid"),
    expected: { metadata: {}, scopes: ["read"], expiresIn: 3600, refresh: true },
  },
};

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
    idToken: await idToken(`${base}/${e.key}`),
    tenantIdToken: await idToken(`https://login.microsoftonline.com/${TENANT}/v2.0`),
  };
}

function overrides(): ProviderOverrides {
  const entries = Object.keys(providers).map((key) => {
    const root = `${base}/${key}${templateSegment(key)}`;
    // An issuer only where the catalog has one: the others must keep working without.
    const issuer = providers[key]?.issuer === undefined ? {} : { issuer: `${base}/${key}` };
    return [key, { authorizationUrl: `${root}/authorize`, tokenUrl: `${root}/token`, ...issuer }];
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
              issuer: `${base}/oauth2`,
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
  if (spec.sendsIss) url.searchParams.set("iss", `${base}/${key}`);
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
