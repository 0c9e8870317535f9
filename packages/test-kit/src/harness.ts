/**
 * Integration harness: every route of the route table, built by its factory as deployed, behind the
 * local API (payload 2.0 events over real HTTP), dynalite and the local KMS through the production
 * adapters, and `oidc-provider` as the authorization server. Everything listens on 127.0.0.1 and
 * stops in `close()`. The handlers get their settings as a map (`options.env` on top), so several
 * harnesses with different settings can run in one process.
 */
import { dynamoConnectorStore, dynamoFlowStore, kmsDataKeys } from "@connector-oauth/aws";
import { defineConnectors, type ProviderOverrides, providers } from "@connector-oauth/core";
import { type DemoProvider, startDemoProvider } from "@connector-oauth/demo-provider";
import { appRoutes } from "@connector-oauth/functions";
import {
  type LocalApi,
  type LocalServices,
  type Route,
  startLocalApi,
  startLocalServices,
} from "@connector-oauth/local";
import { SignJWT } from "jose";
import { loginAtProvider } from "./provider-login.ts";

export const APP_ORIGIN = "https://app.example.com";
export const OTHER_APP_ORIGIN = "http://localhost:5173";
export const JWT_SECRET = "test-secret-for-hs256-signing-0123456789";
export const CLIENT = { clientId: "connector-client", clientSecret: "client-secret-value-7f3a9c" };
/** A Google Workspace stand-in client: the popup code flow has no PKCE and its own redirect URI. */
export const LEGACY_CLIENT = { clientId: "workspace-client", clientSecret: "workspace-secret-value-5d1e8b" };
export const LEGACY_REDIRECT_URI = "http://127.0.0.1:9/popup";

export interface Harness {
  services: LocalServices;
  provider: DemoProvider;
  api: LocalApi;
  callbackUrl: string;
  connectors: ReturnType<typeof dynamoConnectorStore>;
  flows: ReturnType<typeof dynamoFlowStore>;
  dataKeys: ReturnType<typeof kmsDataKeys>;
  /** The settings the handlers were built from (the local services' and the stage's). */
  env: Record<string, string | undefined>;
  /** Every line the process wrote to stdout/stderr while the harness ran (handler logs included). */
  logs: string[];
  token(claims: {
    sub: string;
    orgId: string;
    role?: string;
    email?: string;
    scope?: string;
  }): Promise<string>;
  define(definitions: unknown[]): ReturnType<typeof defineConnectors>;
  close(): Promise<void>;
}

function captureOutput(lines: string[]) {
  const restore: (() => void)[] = [];
  for (const stream of [process.stdout, process.stderr]) {
    const write = stream.write.bind(stream);
    stream.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
      lines.push(typeof chunk === "string" ? chunk : Buffer.from(chunk).toString());
      return (write as (...args: unknown[]) => boolean)(chunk, ...rest);
    }) as typeof stream.write;
    restore.push(() => {
      stream.write = write;
    });
  }
  return () => {
    for (const undo of restore) undo();
  };
}

/** A connector definition for a custom `oauth2` connector at the demo provider. */
export function demoConnector(provider: DemoProvider, fields: Record<string, unknown>) {
  return {
    provider: "oauth2",
    scope: "team",
    createdBy: "alice",
    ...CLIENT,
    scopes: ["openid", "email", "offline_access"],
    endpoints: {
      authorizationUrl: provider.authorizationUrl,
      tokenUrl: provider.tokenUrl,
      issuer: provider.issuer,
    },
    ...fields,
  };
}

/** The legacy endpoint's Google Workspace connector (org acme) for the stand-in client. */
export function legacyConnector() {
  return {
    provider: "google-workspace",
    scope: "team",
    createdBy: "alice",
    redirectUri: LEGACY_REDIRECT_URI,
    ...LEGACY_CLIENT,
    connectorId: "googleWorkspace",
    orgId: "acme",
    scopes: ["openid", "email"],
  };
}

/** Points the catalog's google-workspace entry at the demo provider (for the legacy exchange). */
export function googleWorkspaceStandIn(p: DemoProvider): ProviderOverrides {
  const endpoints = {
    authorizationUrl: p.authorizationUrl,
    tokenUrl: p.tokenUrl,
    issuer: p.issuer,
    jwksUrl: p.jwksUrl,
  };
  return { "google-workspace": endpoints };
}

export async function startHarness(
  options: { overrides?: (provider: DemoProvider) => ProviderOverrides; env?: Record<string, string> } = {},
): Promise<Harness> {
  const logs: string[] = [];
  const stopCapture = captureOutput(logs);
  const services = await startLocalServices();
  const routes: Route[] = [];
  const api = await startLocalApi({ routes, credentials: () => services.credentials });
  const callbackUrl = `${api.url}/connectors/oauth/callback`;
  const provider = await startDemoProvider({
    clients: [
      { ...CLIENT, redirectUris: [callbackUrl] },
      { ...LEGACY_CLIENT, redirectUris: [LEGACY_REDIRECT_URI], pkce: false },
    ],
  });
  const env = {
    ...services.env,
    APP_ORIGINS: `${APP_ORIGIN},${OTHER_APP_ORIGIN}`,
    PUBLIC_API_URL: api.url,
    AUTH_HS256_SECRET: JWT_SECRET,
    ALLOW_LOOPBACK_HTTP: "true",
    PROVIDER_OVERRIDES: JSON.stringify(options.overrides?.(provider) ?? {}),
    ...options.env,
  };
  routes.push(...appRoutes(env));
  const connectors = dynamoConnectorStore(services.dynamo, services.tableName);
  const dataKeys = kmsDataKeys(services.kms, services.dataKeyId);
  const catalog = { catalog: providers, allowLoopbackHttp: true };
  return {
    services,
    provider,
    api,
    callbackUrl,
    connectors,
    dataKeys,
    logs,
    env,
    flows: dynamoFlowStore(services.dynamo, services.tableName),
    token: (claims) =>
      new SignJWT(claims)
        .setProtectedHeader({ alg: "HS256" })
        .setIssuedAt()
        .setExpirationTime("10m")
        .sign(new TextEncoder().encode(JWT_SECRET)),
    define: (definitions) =>
      defineConnectors({ connectors, dataKeys, catalog }, definitions, "test", Date.now()),
    async close() {
      stopCapture();
      await api.close();
      await provider.close();
      await services.close();
    },
  };
}

/** GET authorize as `token`; returns status and JSON body. */
export async function authorize(h: Harness, connectorId: string, token: string | undefined, query = "") {
  const response = await fetch(
    `${h.api.url}/connectors/${encodeURIComponent(connectorId)}/oauth/authorize${query}`,
    {
      headers: token ? { authorization: `Bearer ${token}` } : {},
    },
  );
  return {
    status: response.status,
    headers: response.headers,
    body: (await response.json()) as Record<string, unknown>,
  };
}

/** Logs in and consents at the provider; returns the callback URL the provider redirects to. */
export function consent(h: Harness, authorizationUrl: string, login = "alice") {
  return loginAtProvider(authorizationUrl, login, h.callbackUrl);
}

/** Requests the callback like a browser (no redirect following), or as JSON. */
export async function callCallback(url: string, accept?: string) {
  const response = await fetch(url, { redirect: "manual", headers: accept ? { accept } : {} });
  return { status: response.status, headers: response.headers, text: await response.text() };
}

export function tokenRequests(h: Harness) {
  return h.provider.requests.filter((r) => r.path === "/token");
}

/** A Google-popup-style code: authorization at the stand-in without PKCE, as Google Identity
 * Services issues them to the legacy getTokenFromCode flow. */
export function popupCode(h: Pick<Harness, "provider">, login = "alice"): Promise<string> {
  return popupCodeAt(h.provider, login);
}

/** popupCode for a demo provider started without the harness. */
export async function popupCodeAt(provider: { authorizationUrl: string }, login = "alice"): Promise<string> {
  const url = new URL(provider.authorizationUrl);
  url.search = new URLSearchParams({
    client_id: LEGACY_CLIENT.clientId,
    redirect_uri: LEGACY_REDIRECT_URI,
    response_type: "code",
    scope: "openid email",
  }).toString();
  return new URL(await loginAtProvider(url.href, login, LEGACY_REDIRECT_URI)).searchParams.get("code") ?? "";
}
