/**
 * Models of the real providers, one description per catalog key, used by the stand-in token endpoint
 * of providers.test.ts (and the revocation stand-ins): what each provider sends on its callback
 * (`iss` or none), its token response and error shapes, its refresh answer and its revocation
 * contract. Sources for each fact are listed per provider in docs/providers.md.
 */
import { providers } from "@connector-oauth/core";

type Json = Record<string, unknown>;

export interface Answer {
  status: number;
  contentType: string;
  body: string;
}

export interface Spec {
  /** How the provider expects the client to authenticate and the body to be sent. */
  auth: "basic" | "post";
  format: "form" | "json";
  pkce: boolean;
  /** Connector parameters, and the template segment the override carries. */
  params?: Record<string, string>;
  /** The `iss` the real provider sends on every authorization response (RFC 9207); none if absent. */
  iss?: string;
  /** Extra header checks: name -> exact value. */
  headers?: Record<string, string>;
  success(ctx: Issued): Answer;
  /** The answer to a refresh grant, where it differs from the code exchange's (Slack). */
  refresh?: (ctx: Issued) => Answer;
  /** Refresh grants are only taken on this path (Figma's /v1/oauth/refresh); default the token path. */
  refreshPath?: string;
  /** A refresh answer carries no new refresh token: the old one stays valid (Figma). */
  keepsRefreshToken?: boolean;
  /** Fixed body fields the provider requires on the code exchange and on refresh (Basecamp `type`). */
  requires?: { exchange?: Record<string, string>; refresh?: Record<string, string> };
  error: Answer;
  /**
   * The revocation endpoint's contract, where the provider has one: how it takes the token
   * (rfc7009 form with client authentication, bearer access token and no body, a named field
   * access_token=/refresh_token=, or ?token= on the URL) and what it answers.
   */
  revocation?: { takes: "rfc7009" | "bearer" | "field" | "query"; revoked?: Answer; refused?: Answer };
  expected: {
    metadata: Record<string, string>;
    scopes: string[];
    expiresIn?: number;
    refresh: boolean;
    idToken?: boolean;
  };
}

export interface Issued {
  key: string;
  clientId: string;
  issuer: string;
  access: string;
  refresh: string;
  idToken: string;
  tenantIdToken: string;
  accept: string;
}

export const json = (body: Json, status = 200): Answer => ({
  status,
  contentType: "application/json; charset=utf-8",
  body: JSON.stringify(body),
});
export const form = (body: Record<string, string>, status = 200): Answer => ({
  status,
  contentType: "application/x-www-form-urlencoded; charset=utf-8",
  body: new URLSearchParams(body).toString(),
});
export const oauthError = (status: number, error: string, description: string) =>
  json({ error, error_description: description }, status);

/** An HTTP 200 with no body, the usual RFC 7009 success. */
const EMPTY_200: Answer = { status: 200, contentType: "text/plain", body: "" };

const google: Spec = {
  auth: "post",
  format: "form",
  pkce: true,
  iss: "https://accounts.google.com",
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
  revocation: { takes: "rfc7009", revoked: EMPTY_200 },
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

/** The issuer of the custom `oauth2` connector of the tests. */
export const CUSTOM_ISSUER = "https://idp.example.com";

export const TENANT = "8eaef023-2b34-4da1-9baa-8bc8c9d6a490";
const microsoft: Spec = {
  auth: "post",
  format: "form",
  pkce: true,
  params: { tenant: TENANT },
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
  auth: "post",
  format: "form",
  pkce: true,
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
  auth: "post",
  format: "form",
  pkce: true,
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
  revocation: { takes: "rfc7009", revoked: EMPTY_200 },
  expected: {
    metadata: {
      instanceUrl: "https://acme.my.salesforce.com",
      identityUrl: "https://login.salesforce.com/id/00Dx0000000BV7z/005x00000012Q9P",
    },
    scopes: ["refresh_token", "api"],
    refresh: true,
  },
};

/** Confluence / Jira Data Center: a standard OAuth 2 provider on the instance host. */
function dataCenter(host: string): Spec {
  return {
    auth: "post",
    format: "form",
    pkce: true,
    params: { host },
    success: (t) =>
      json({
        access_token: t.access,
        refresh_token: t.refresh,
        expires_in: 3600,
        token_type: "bearer",
        scope: "READ",
      }),
    error: oauthError(400, "invalid_grant", "Invalid authorization code"),
    expected: { metadata: {}, scopes: ["READ"], expiresIn: 3600, refresh: true },
  };
}

export const specs: Record<string, Spec> = {
  ...Object.fromEntries(
    Object.entries(providers)
      .filter(([, entry]) => entry.family === "google")
      .map(([key]) => [key, google]),
  ),
  ...Object.fromEntries(["outlook", "onedrive", "sharepoint", "teams"].map((key) => [key, microsoft])),
  confluence: atlassian,
  jira: atlassian,
  slack: {
    auth: "post",
    format: "form",
    pkce: false,
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
    // A refresh answers the token set at the top level (docs.slack.dev/authentication/using-token-rotation).
    refresh: (t) =>
      json({
        ok: true,
        app_id: "A0KRD7HC3",
        access_token: t.access,
        token_type: "user",
        scope: "channels:history,channels:read",
        refresh_token: t.refresh,
        expires_in: 43200,
        team: { id: "T9TK3CUKW", name: "Acme" },
      }),
    // Slack reports every failure as HTTP 200.
    error: json({ ok: false, error: "invalid_code" }),
    // auth.revoke revokes the token that authenticates the call (Bearer), answering HTTP 200 either way.
    revocation: {
      takes: "bearer",
      revoked: json({ ok: true, revoked: true }),
      refused: json({ ok: false, error: "invalid_auth" }),
    },
    expected: {
      metadata: { teamId: "T9TK3CUKW", teamName: "Acme", userId: "U1234", appId: "A0KRD7HC3" },
      scopes: ["channels:history", "channels:read"],
      expiresIn: 43200,
      refresh: true,
    },
  },
  notion: {
    auth: "basic",
    format: "json",
    pkce: false,
    headers: { "notion-version": "2026-03-11" },
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
    // Like its token endpoint: HTTP Basic and a JSON body {token}.
    revocation: { takes: "rfc7009", revoked: json({ request_id: "req-3" }) },
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
    auth: "post",
    format: "form",
    pkce: true,
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
    // auth/token/revoke: the access token as Bearer, no body; answers JSON null.
    revocation: {
      takes: "bearer",
      revoked: json(null as unknown as Json),
      refused: json(
        { error_summary: "invalid_access_token/..", error: { ".tag": "invalid_access_token" } },
        401,
      ),
    },
    expected: {
      metadata: { accountId: "dbid:AAH4f99T0taONIb-OurWxbNQ6ywGRopQngc", uid: "12345" },
      scopes: ["account_info.read", "files.content.read", "files.metadata.read", "sharing.read"],
      expiresIn: 14400,
      refresh: true,
    },
  },
  box: {
    auth: "post",
    format: "form",
    pkce: true,
    success: (t) =>
      json({
        access_token: t.access,
        expires_in: 3600,
        restricted_to: [],
        refresh_token: t.refresh,
        token_type: "bearer",
      }),
    error: oauthError(400, "invalid_grant", "Auth code doesn't exist or is invalid for the client"),
    revocation: { takes: "rfc7009", revoked: EMPTY_200 },
    expected: { metadata: {}, scopes: ["root_readonly"], expiresIn: 3600, refresh: true },
  },
  github: {
    // Since 2026-04-09 GitHub sends its issuer identifier on every authorization response.
    auth: "post",
    format: "form",
    pkce: true,
    iss: "https://github.com/login/oauth",
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
    revocation: { takes: "rfc7009", revoked: json({}) },
  },
  "gitlab-self-managed": {
    auth: "post",
    format: "form",
    pkce: true,
    params: { host: "gitlab.acme.io" },
    success: gitlabAnswer,
    error: gitlabError,
    expected: gitlabExpected,
    revocation: { takes: "rfc7009", revoked: json({}) },
  },
  linear: {
    auth: "post",
    format: "form",
    pkce: true,
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
    // POST /oauth/revoke takes access_token= or refresh_token= (or Bearer); there is no `token` field.
    revocation: {
      takes: "field",
      revoked: EMPTY_200,
      refused: oauthError(400, "invalid_request", "Invalid token"),
    },
  },
  salesforce,
  "salesforce-sandbox": salesforce,
  zoom: {
    auth: "basic",
    format: "form",
    pkce: true,
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
    revocation: { takes: "rfc7009", revoked: json({ status: "success" }) },
    expected: {
      metadata: { apiUrl: "https://api.zoom.us" },
      scopes: ["user:read:user", "meeting:read:list_meetings"],
      expiresIn: 3599,
      refresh: true,
    },
  },
  servicenow: {
    auth: "post",
    format: "form",
    pkce: true,
    params: { instance: "acme.service-now.com" },
    success: (t) =>
      json({
        access_token: t.access,
        refresh_token: t.refresh,
        scope: "useraccount",
        token_type: "Bearer",
        expires_in: 1799,
      }),
    error: json({ error_description: "access_denied", error: "server_error" }, 401),
    // oauth_revoke_token.do?token=..., no authentication (the answer is not documented).
    revocation: { takes: "query", revoked: EMPTY_200 },
    expected: { metadata: {}, scopes: ["useraccount"], expiresIn: 1799, refresh: true },
  },
  snowflake: {
    auth: "basic",
    format: "form",
    pkce: true,
    params: { account: "xy12345.us-east-2.aws.snowflakecomputing.com" },
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
    auth: "post",
    format: "form",
    pkce: true,
    params: { subdomain: "acme.zendesk.com" },
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
    auth: "post",
    format: "form",
    pkce: true,
    iss: CUSTOM_ISSUER,
    success: (t) =>
      json({ access_token: t.access, token_type: "Bearer", expires_in: 3600, refresh_token: t.refresh }),
    error: oauthError(400, "invalid_grant", "grant request is invalid"),
    expected: { metadata: {}, scopes: ["read"], expiresIn: 3600, refresh: true },
  },

  // ---- Enterprise-search sources (issue 12) ----
  "google-chat": google,
  "confluence-data-center": dataCenter("wiki.acme.io:8443"),
  "jira-data-center": dataCenter("jira.acme.io"),
  "confluence-gov": atlassian,
  "jira-gov": atlassian,
  hubspot: {
    auth: "post",
    format: "form",
    pkce: true,
    success: (t) =>
      json({
        token_type: "bearer",
        refresh_token: t.refresh,
        access_token: t.access,
        expires_in: 1800,
        hub_id: 62515,
      }),
    // HubSpot's own error shape, no RFC 6749 `error` field.
    error: json(
      { status: "BAD_AUTH_CODE", message: "missing or unknown auth code", correlationId: "c-1" },
      400,
    ),
    expected: {
      metadata: { portalId: "62515" },
      scopes: ["oauth", "crm.objects.contacts.read", "crm.objects.companies.read"],
      expiresIn: 1800,
      refresh: true,
    },
  },
  asana: {
    auth: "post",
    format: "form",
    pkce: true,
    success: (t) =>
      json({
        access_token: t.access,
        expires_in: 3600,
        token_type: "bearer",
        refresh_token: t.refresh,
        data: { id: 4673218951, gid: "4673218951", name: "Greg Sanchez", email: "gsanchez@example.com" },
      }),
    error: oauthError(400, "invalid_grant", "The code is invalid"),
    expected: { metadata: {}, scopes: ["default"], expiresIn: 3600, refresh: true },
    revocation: { takes: "rfc7009", revoked: EMPTY_200 },
  },
  clickup: {
    auth: "post",
    format: "form",
    pkce: false,
    success: (t) => json({ access_token: t.access, token_type: "Bearer" }),
    error: json({ err: "Code already used", ECODE: "OAUTH_014" }, 400),
    expected: { metadata: {}, scopes: [], refresh: false },
  },
  airtable: {
    auth: "basic",
    format: "form",
    pkce: true,
    success: (t) =>
      json({
        access_token: t.access,
        refresh_token: t.refresh,
        token_type: "Bearer",
        scope: "data.records:read schema.bases:read user.email:read",
        expires_in: 3600,
        refresh_expires_in: 5_184_000,
      }),
    error: oauthError(400, "invalid_grant", "Invalid code"),
    expected: {
      metadata: {},
      scopes: ["data.records:read", "schema.bases:read", "user.email:read"],
      expiresIn: 3600,
      refresh: true,
    },
  },
  monday: {
    auth: "post",
    format: "form",
    pkce: false,
    success: (t) =>
      json({ access_token: t.access, token_type: "Bearer", scope: "me:read boards:read docs:read" }),
    error: oauthError(400, "invalid_grant", "Invalid code"),
    expected: { metadata: {}, scopes: ["me:read", "boards:read", "docs:read"], refresh: false },
  },
  figma: {
    auth: "basic",
    format: "form",
    pkce: false,
    refreshPath: "/figma/refresh",
    keepsRefreshToken: true,
    success: (t) =>
      json({
        user_id_string: "1234567890",
        access_token: t.access,
        token_type: "bearer",
        expires_in: 7_776_000,
        refresh_token: t.refresh,
      }),
    refresh: (t) => json({ access_token: t.access, token_type: "bearer", expires_in: 7_776_000 }),
    error: json({ error: true, status: 400, message: "Invalid code" }, 400),
    expected: {
      metadata: { userId: "1234567890" },
      scopes: ["current_user:read", "file_content:read", "file_metadata:read"],
      expiresIn: 7_776_000,
      refresh: true,
    },
  },
  intercom: {
    auth: "post",
    format: "form",
    pkce: false,
    params: { region: "eu.intercom" },
    success: (t) => json({ token_type: "Bearer", token: t.access, access_token: t.access }),
    error: json({ type: "error.list", errors: [{ code: "unauthorized", message: "Invalid code" }] }, 401),
    expected: { metadata: {}, scopes: [], refresh: false },
  },
  egnyte: {
    auth: "post",
    format: "form",
    pkce: false,
    params: { domain: "acme.egnyte.com" },
    success: (t) => json({ access_token: t.access, token_type: "bearer" }),
    error: oauthError(400, "invalid_grant", "Invalid authorization code"),
    expected: { metadata: {}, scopes: ["Egnyte.filesystem", "Egnyte.user"], refresh: false },
  },
  smartsheet: {
    auth: "post",
    format: "form",
    pkce: false,
    params: { region: "smartsheet.eu" },
    success: (t) =>
      json({ access_token: t.access, token_type: "bearer", refresh_token: t.refresh, expires_in: 604_799 }),
    error: json({ errorCode: 1004, message: "Invalid code", error: "invalid_grant" }, 400),
    expected: { metadata: {}, scopes: ["READ_SHEETS", "READ_USERS"], expiresIn: 604_799, refresh: true },
  },
  webex: {
    auth: "post",
    format: "form",
    pkce: true,
    success: (t) =>
      json({
        access_token: t.access,
        expires_in: 1_209_599,
        refresh_token: t.refresh,
        refresh_token_expires_in: 7_775_999,
        token_type: "Bearer",
        scope: "spark:people_read spark:rooms_read",
      }),
    error: json(
      { message: "Invalid Authorization Code", errors: [{ description: "Invalid" }], trackingId: "x" },
      400,
    ),
    expected: {
      metadata: {},
      scopes: ["spark:people_read", "spark:rooms_read"],
      expiresIn: 1_209_599,
      refresh: true,
    },
  },
  discord: {
    auth: "post",
    format: "form",
    pkce: true,
    success: (t) =>
      json({
        access_token: t.access,
        token_type: "Bearer",
        expires_in: 604_800,
        refresh_token: t.refresh,
        scope: "identify email guilds",
      }),
    error: oauthError(400, "invalid_grant", 'Invalid "code" in request.'),
    expected: { metadata: {}, scopes: ["identify", "email", "guilds"], expiresIn: 604_800, refresh: true },
    revocation: { takes: "rfc7009", revoked: json({}) },
  },
  bitbucket: {
    auth: "basic",
    format: "form",
    pkce: true,
    // Granted scopes come as `scopes`, not RFC 6749's `scope`.
    success: (t) =>
      json({
        access_token: t.access,
        scopes: "repository account",
        expires_in: 7200,
        refresh_token: t.refresh,
        token_type: "bearer",
        state: "authorization_code",
      }),
    error: oauthError(400, "invalid_grant", "The authorization code is invalid"),
    expected: { metadata: {}, scopes: [], expiresIn: 7200, refresh: true },
  },
  miro: {
    auth: "post",
    format: "form",
    pkce: false,
    success: (t) =>
      json({
        user_id: "3458764",
        team_id: "3074457",
        access_token: t.access,
        scope: "boards:read",
        token_type: "bearer",
      }),
    error: json({ status: 400, code: "invalidParameters", message: "Invalid code", type: "error" }, 400),
    expected: { metadata: {}, scopes: ["boards:read"], refresh: false },
  },
  basecamp: {
    auth: "post",
    format: "form",
    pkce: false,
    requires: { exchange: { type: "web_server" }, refresh: { type: "refresh" } },
    // No token_type in Launchpad's answer.
    success: (t) => json({ access_token: t.access, expires_in: 1_209_600, refresh_token: t.refresh }),
    error: json({ error: "authorization_expired" }, 400),
    expected: { metadata: {}, scopes: [], expiresIn: 1_209_600, refresh: true },
  },
  front: {
    auth: "basic",
    format: "form",
    pkce: false,
    // Front names an absolute expiry (expires_at), not expires_in.
    success: (t) =>
      json({
        access_token: t.access,
        refresh_token: t.refresh,
        expires_at: 1_900_000_000,
        token_type: "Bearer",
      }),
    error: json({ _error: { status: 400, title: "Bad request", message: "Invalid code" } }, 400),
    expected: { metadata: {}, scopes: [], refresh: true },
  },
  gong: {
    auth: "basic",
    format: "form",
    pkce: false,
    success: (t) =>
      json({
        access_token: t.access,
        refresh_token: t.refresh,
        scope: "api:calls:read:basic api:users:read",
        token_type: "bearer",
        expires_in: 86_400,
        api_base_url_for_customer: "https://us-12345.api.gong.io",
      }),
    error: oauthError(400, "invalid_grant", "Invalid authorization code"),
    expected: {
      metadata: { apiBaseUrl: "https://us-12345.api.gong.io" },
      scopes: ["api:calls:read:basic", "api:users:read"],
      expiresIn: 86_400,
      refresh: true,
    },
  },
  wrike: {
    auth: "post",
    format: "form",
    pkce: false,
    success: (t) =>
      json({
        access_token: t.access,
        refresh_token: t.refresh,
        token_type: "bearer",
        host: "app-eu.wrike.com",
        expires_in: 3600,
      }),
    error: oauthError(400, "invalid_grant", "Invalid authorization code"),
    expected: { metadata: { host: "app-eu.wrike.com" }, scopes: ["Default"], expiresIn: 3600, refresh: true },
  },
  "zoho-desk": {
    auth: "post",
    format: "form",
    pkce: false,
    params: { dc: "zoho.eu" },
    success: (t) =>
      json({
        access_token: t.access,
        refresh_token: t.refresh,
        api_domain: "https://www.zohoapis.eu",
        token_type: "Bearer",
        expires_in: 3600,
      }),
    // Zoho reports errors as HTTP 200 {error}.
    error: json({ error: "invalid_code" }),
    expected: {
      metadata: { apiDomain: "https://www.zohoapis.eu" },
      scopes: ["Desk.tickets.READ", "Desk.basic.READ", "Desk.articles.READ"],
      expiresIn: 3600,
      refresh: true,
    },
    // POST /oauth/v2/token/revoke?token=<refresh token>.
    revocation: { takes: "query", revoked: json({ status: "success" }) },
  },
  shortcut: {
    auth: "post",
    format: "form",
    pkce: false,
    success: (t) =>
      json({ access_token: t.access, token_type: "Bearer", refresh_token: t.refresh, expires_in: 3600 }),
    error: oauthError(400, "invalid_grant", "Invalid code"),
    expected: { metadata: {}, scopes: ["openid"], expiresIn: 3600, refresh: true },
  },
  productboard: {
    auth: "post",
    format: "form",
    pkce: false,
    success: (t) =>
      json({ access_token: t.access, refresh_token: t.refresh, token_type: "bearer", expires_in: 86_400 }),
    error: oauthError(400, "invalid_grant", "Invalid code"),
    expected: {
      metadata: {},
      scopes: ["product_hierarchy_data:read", "notes:read"],
      expiresIn: 86_400,
      refresh: true,
    },
  },
  "help-scout": {
    auth: "post",
    format: "form",
    pkce: false,
    success: (t) =>
      json({ refresh_token: t.refresh, token_type: "bearer", access_token: t.access, expires_in: 172_800 }),
    error: oauthError(400, "invalid_grant", "Invalid code"),
    expected: { metadata: {}, scopes: [], expiresIn: 172_800, refresh: true },
  },
};
