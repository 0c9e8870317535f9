/**
 * A real OAuth 2.0 / OpenID Connect authorization server for local mode and tests, built on
 * `oidc-provider` with its development login and consent pages (any login, any password). It
 * requires PKCE, always issues refresh tokens (rotating unless told otherwise), sends `iss` in
 * authorization responses (RFC 9207), and records the requests that reach its token and revocation
 * endpoints so tests can count them. `faults` lets a test make the token endpoint answer with an
 * HTTP error.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { hostAllowed } from "@connector-oauth/config";
import Provider from "oidc-provider";

export interface DemoClient {
  clientId: string;
  clientSecret: string;
  redirectUris: string[];
  /** Default client_secret_post. */
  authMethod?: "client_secret_post" | "client_secret_basic";
  /** Default true. False only for stand-ins of flows without PKCE (Google's popup code flow). */
  pkce?: boolean;
}

export interface RecordedRequest {
  path: string;
  status: number;
  grantType?: string;
  /** The form parameters received (so tests can look for them elsewhere). */
  params: Record<string, string>;
  at: number;
}

export interface DemoProvider {
  issuer: string;
  authorizationUrl: string;
  tokenUrl: string;
  revocationUrl: string;
  jwksUrl: string;
  port: number;
  /** Requests seen at /token and /token/revocation, in order. */
  requests: RecordedRequest[];
  /** HTTP statuses the next token requests get instead of being served (FIFO). */
  faults: number[];
  close(): Promise<void>;
}

export const DEMO_SCOPES = ["openid", "email", "profile", "offline_access"];

function account(id: string) {
  return {
    accountId: id,
    claims: async () => ({ sub: id, email: `${id}@example.com`, email_verified: true, name: id }),
  };
}

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

const ownToken = async (_ctx: unknown, client: { clientId: string }, token: { clientId?: string }) =>
  token.clientId === client.clientId;

/** oidc-provider prints advice for running it in production ("you MUST change it", development
 * keys and adapter, devInteractions) when it is built. This is a local stand-in where that setup is
 * the point, so the advice goes to the debug output (DEBUG=oidc-provider), not the console. */
function withoutAdvice<T>(build: () => T): T {
  const { warn, info } = console;
  const shown = process.env.DEBUG?.includes("oidc-provider");
  const filter =
    (write: typeof console.warn) =>
    (...args: unknown[]) =>
      String(args[0]).startsWith("oidc-provider ") && !shown ? undefined : write(...args);
  console.warn = filter(warn);
  console.info = filter(info);
  try {
    return build();
  } finally {
    console.warn = warn;
    console.info = info;
  }
}

/** Starts the provider on 127.0.0.1:`port` (0 = any free port). */
export async function startDemoProvider(options: {
  port?: number;
  clients: DemoClient[];
  /** rotate (default): a refresh returns a new refresh token and consumes the old one. omit: the
   * refresh token stays valid and refresh responses leave it out, as Google's do. */
  refreshResponses?: "rotate" | "omit";
}): Promise<DemoProvider> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, "127.0.0.1", () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const issuer = `http://127.0.0.1:${port}`;
  const withoutPkce = new Set(options.clients.filter((c) => c.pkce === false).map((c) => c.clientId));
  const provider = withoutAdvice(
    () =>
      new Provider(issuer, {
        clients: options.clients.map((c) => ({
          client_id: c.clientId,
          client_secret: c.clientSecret,
          redirect_uris: c.redirectUris,
          grant_types: ["authorization_code", "refresh_token"],
          response_types: ["code"],
          token_endpoint_auth_method: c.authMethod ?? "client_secret_post",
        })),
        claims: { openid: ["sub"], email: ["email", "email_verified"], profile: ["name"] },
        scopes: DEMO_SCOPES,
        features: {
          devInteractions: { enabled: true },
          // A client may revoke and introspect only its own tokens (oidc-provider's default rule, stated
          // here so that it does not print its "you SHOULD change" notice on every call).
          revocation: { enabled: true, allowedPolicy: ownToken },
          introspection: { enabled: true, allowedPolicy: ownToken },
        },
        pkce: {
          required: (_ctx: unknown, client: { clientId: string }) => !withoutPkce.has(client.clientId),
        },
        // oidc-provider drops offline_access without prompt=consent; a connector always wants a refresh token.
        issueRefreshToken: async (_ctx: unknown, client: { grantTypeAllowed(t: string): boolean }) =>
          client.grantTypeAllowed("refresh_token"),
        rotateRefreshToken: options.refreshResponses !== "omit",
        // Put email claims in the id_token as Google does (the legacy exchange compares them).
        conformIdTokenClaims: false,
        findAccount: async (_ctx: unknown, id: string) => account(id),
        ttl: {
          AccessToken: 3600,
          AuthorizationCode: 60,
          IdToken: 3600,
          RefreshToken: 14 * 24 * 3600,
          Grant: 14 * 24 * 3600,
          Interaction: 600,
          Session: 3600,
        },
        cookies: { keys: ["demo-provider-cookie-key-not-secret"] },
        // Its own error page, so that oidc-provider prints no "you SHOULD change renderError" notice.
        renderError: async (ctx: { type: string; body: string }, out: Record<string, string>) => {
          ctx.type = "html";
          ctx.body = `<!doctype html><meta charset="utf-8"><title>Demo provider: ${escapeHtml(out.error ?? "error")}</title><h1>${escapeHtml(out.error ?? "error")}</h1><p>${escapeHtml(out.error_description ?? "")}</p>`;
        },
      }),
  );
  const requests: RecordedRequest[] = [];
  const faults: number[] = [];
  type Context = {
    path: string;
    method: string;
    status: number;
    body: unknown;
    request: { body?: Record<string, string> };
    oidc?: { params?: Record<string, string> };
  };
  provider.use(async (ctx: Context, next: () => Promise<void>) => {
    const recorded = ctx.method === "POST" && (ctx.path === "/token" || ctx.path === "/token/revocation");
    const fault = recorded && ctx.path === "/token" ? faults.shift() : undefined;
    if (fault) {
      ctx.status = fault;
      ctx.body = { error: "temporarily_unavailable" };
    } else {
      await next();
      const refreshed = ctx.path === "/token" && ctx.oidc?.params?.grant_type === "refresh_token";
      if (refreshed && options.refreshResponses === "omit")
        delete (ctx.body as Record<string, unknown>)?.refresh_token;
    }
    if (recorded) {
      const params = { ...(ctx.oidc?.params ?? ctx.request.body) } as Record<string, string>;
      requests.push({
        path: ctx.path,
        status: ctx.status,
        grantType: params.grant_type,
        params,
        at: Date.now(),
      });
    }
  });
  const serve = provider.callback();
  server.on("request", (request, response) => {
    // DNS rebinding: answer only to the loopback names (packages/config/src/host-names.ts).
    if (hostAllowed(request)) return serve(request, response);
    response.writeHead(403, { "content-type": "text/plain" }).end("This server answers only to localhost\n");
  });
  return {
    issuer,
    authorizationUrl: `${issuer}/auth`,
    tokenUrl: `${issuer}/token`,
    revocationUrl: `${issuer}/token/revocation`,
    jwksUrl: `${issuer}/jwks`,
    port,
    requests,
    faults,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
