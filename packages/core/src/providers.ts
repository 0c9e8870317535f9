/**
 * The provider catalog as data: one entry per PipesHub per-user OAuth connector, each naming the
 * provider documentation it follows. Families (Google, Microsoft, Atlassian, GitLab, Salesforce)
 * share one definition; only name, default scopes and host differ. The custom `oauth2` provider is
 * not listed here: its connectors carry their own endpoints (catalog.ts `providerEntry`).
 *
 * PKCE is on unless an entry says why not: the providers that document it verify it, and the others
 * ignore unknown authorization and token parameters (each such entry says so).
 * Issuers are set only where the provider sends `iss` (or an id_token with a fixed issuer).
 */
import type { Catalog, ProviderEntry, TemplateParam } from "./catalog.ts";

/** One DNS label, lowercase (RFC 1123): what a subdomain or instance name may be. */
const LABEL = "[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?";

/** A DNS name of two labels or more (any number), ending in an alphabetic or IDN (xn--) TLD. */
const DOMAIN = `${LABEL}(?:\\.${LABEL})*\\.(?:[a-z]{2,63}|xn--[a-z0-9-]{1,59})`;

function escaped(domain: string): string {
  return domain.replaceAll(".", "\\.");
}

/**
 * A whole host on the provider's own domain: `acme` or a pasted `acme.zendesk.com` (any case) both
 * mean acme.zendesk.com, and nothing can name a host outside `domain`.
 */
function tenantHost(domain: string, description: string, example: string): TemplateParam {
  return { pattern: `^${LABEL}${escaped(domain)}$`, domains: [domain], description, example };
}

const googleBase = {
  family: "google",
  docs: "https://developers.google.com/identity/protocols/oauth2/web-server",
  authorizationUrl: "https://accounts.google.com/o/oauth2/v2/auth",
  tokenUrl: "https://oauth2.googleapis.com/token",
  revocationUrl: "https://oauth2.googleapis.com/revoke",
  // Google sends iss on every callback (RFC 9207) and signs id_tokens with this issuer (id_tokens may
  // also carry the scheme-less accounts.google.com; oauth4webapi compares the exact string).
  issuer: "https://accounts.google.com",
  sendsIss: true,
  jwksUrl: "https://www.googleapis.com/oauth2/v3/certs",
  // Without offline access and a consent prompt Google returns no refresh token.
  authorizationParams: { access_type: "offline", prompt: "consent", include_granted_scopes: "true" },
  identity: {
    source: "endpoint",
    url: "https://openidconnect.googleapis.com/v1/userinfo",
    id: "sub",
    email: "email",
    emailVerified: "email_verified",
    name: "name",
  },
} as const satisfies Partial<ProviderEntry>;

const GOOGLE_API = "https://www.googleapis.com/auth";

function google(name: string, scopes: string[]): ProviderEntry {
  return {
    ...googleBase,
    name,
    defaultScopes: ["openid", "email", ...scopes.map((s) => `${GOOGLE_API}/${s}`)],
  };
}

const microsoftBase = {
  family: "microsoft",
  docs: "https://learn.microsoft.com/entra/identity-platform/v2-oauth2-auth-code-flow",
  authorizationUrl: "https://{cloud}/{tenant}/oauth2/v2.0/authorize",
  tokenUrl: "https://{cloud}/{tenant}/oauth2/v2.0/token",
  // No issuer: Entra sends no iss on the callback, and its id_token issuer names the user's tenant
  // (https://login.microsoftonline.com/{tid}/v2.0), unknown for common/organizations. Hence no openid
  // scope either. No revocation endpoint (sessions are revoked through Graph). Refresh tokens die
  // after 90 days idle.
  authorizationParams: { response_mode: "query" },
  // Graph's /me: `mail` is the mailbox address, not a verified-login claim, so no emailVerified.
  identity: {
    source: "endpoint",
    url: "https://graph.microsoft.com/v1.0/me",
    id: "id",
    email: "mail",
    name: "displayName",
  },
  templates: {
    tenant: {
      // common | organizations | consumers | a tenant GUID | a verified domain of any length. GUIDs and
      // domains are case-insensitive: values are lowercased first (catalog.ts normalizeValue).
      // Single-tenant apps must name their tenant: /common refuses them.
      pattern: `^(?:common|organizations|consumers|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|${DOMAIN})$`,
      default: "common",
      description:
        "the Entra ID tenant: common, organizations, consumers, the tenant id (a GUID) or a verified domain",
      example: "contoso.onmicrosoft.com",
    },
    cloud: {
      // National clouds sign in on their own hosts
      // (https://learn.microsoft.com/entra/identity-platform/authentication-national-cloud).
      pattern:
        "^(?:login\\.microsoftonline\\.com|login\\.microsoftonline\\.us|login\\.partner\\.microsoftonline\\.cn)$",
      default: "login.microsoftonline.com",
      aliases: {
        global: "login.microsoftonline.com",
        usgov: "login.microsoftonline.us",
        china: "login.partner.microsoftonline.cn",
      },
      description: "the Microsoft cloud: global, usgov or china (or its login host)",
      example: "usgov",
    },
  },
} as const satisfies Partial<ProviderEntry>;

const GRAPH = "https://graph.microsoft.com";

function microsoft(name: string, scopes: string[]): ProviderEntry {
  // offline_access is what makes Microsoft return a refresh token.
  const graph = ["User.Read", ...scopes].map((s) => `${GRAPH}/${s}`);
  return { ...microsoftBase, name, defaultScopes: ["offline_access", ...graph] };
}

const atlassianBase = {
  family: "atlassian",
  authorizationUrl: "https://auth.atlassian.com/authorize",
  tokenUrl: "https://auth.atlassian.com/oauth/token",
  // audience is required; prompt=consent is what the docs require for the consent screen (and a
  // refresh token with offline_access). Refresh tokens rotate. One grant covers several sites: the
  // cloud ids come from https://api.atlassian.com/oauth/token/accessible-resources after the exchange,
  // not from the token response, so no metadata is kept here. No iss, no documented revocation
  // endpoint. PKCE is not documented for 3LO; kept on as unknown parameters are ignored (assumption).
  authorizationParams: { audience: "api.atlassian.com", prompt: "consent" },
  identity: {
    source: "endpoint",
    url: "https://api.atlassian.com/me",
    id: "account_id",
    email: "email",
    name: "name",
  },
} as const satisfies Partial<ProviderEntry>;

function atlassian(name: string, docs: string, scopes: string[]): ProviderEntry {
  return { ...atlassianBase, name, docs, defaultScopes: ["offline_access", "read:me", ...scopes] };
}

function gitlab(name: string, origin: string): ProviderEntry {
  return {
    name,
    docs: "https://docs.gitlab.com/api/oauth2/",
    authorizationUrl: `${origin}/oauth/authorize`,
    tokenUrl: `${origin}/oauth/token`,
    revocationUrl: `${origin}/oauth/revoke`,
    // GitLab is an OpenID provider whose issuer is its origin (id_tokens, and iss once it sends one).
    issuer: origin,
    defaultScopes: ["read_api", "read_user", "read_repository"],
    // GET /api/v4/user answers the token's user (https://docs.gitlab.com/api/users/#get-the-current-user).
    identity: { source: "endpoint", url: `${origin}/api/v4/user`, id: "id", email: "email", name: "name" },
  };
}

/**
 * The Salesforce login host: login.salesforce.com, test.salesforce.com or a My Domain host
 * (acme.my.salesforce.com, sandbox acme--dev.sandbox.my.salesforce.com, and the develop, scratch,
 * demo, patch and trailblaze editions). A bare `acme` means acme.my.salesforce.com. Orgs that block
 * login.salesforce.com sign in, and revoke, on their My Domain host.
 */
const salesforceHost = (fallback: string): TemplateParam => ({
  pattern: `^(?:(?:login|test)\\.salesforce\\.com|${LABEL}(?:\\.(?:sandbox|develop|scratch|demo|patch|trailblaze))?\\.my\\.salesforce\\.com)$`,
  default: fallback,
  domains: [".my.salesforce.com", ".salesforce.com"],
  description: "the Salesforce login host: login.salesforce.com, test.salesforce.com or the org's My Domain",
  example: "acme.my.salesforce.com",
});

function salesforce(name: string, fallback: string): ProviderEntry {
  const origin = "https://{host}";
  return {
    name,
    docs: "https://help.salesforce.com/s/articleView?id=sf.remoteaccess_oauth_web_server_flow.htm",
    authorizationUrl: `${origin}/services/oauth2/authorize`,
    tokenUrl: `${origin}/services/oauth2/token`,
    revocationUrl: `${origin}/services/oauth2/revoke`,
    // Salesforce's OpenID issuer is the login host it was reached on
    // (https://login.salesforce.com/.well-known/openid-configuration); it sends no iss on the callback.
    issuer: origin,
    identity: {
      source: "endpoint",
      url: `${origin}/services/oauth2/userinfo`,
      id: "user_id",
      email: "email",
      emailVerified: "email_verified",
      name: "name",
    },
    // refresh_token is what makes Salesforce return a refresh token. No iss; no expires_in either.
    defaultScopes: ["api", "refresh_token"],
    // API calls go to the org's instance URL, which only the token response names.
    tokenResponse: { metadata: { instanceUrl: "instance_url", identityUrl: "id" } },
    templates: { host: salesforceHost(fallback) },
  };
}

/**
 * Confluence / Jira Data Center as OAuth 2 provider (self-hosted): the instance host, a port allowed
 * (https://host:8443). Scopes READ/WRITE/ADMIN; PKCE supported; no revocation endpoint.
 */
function dataCenter(name: string, docs: string): ProviderEntry {
  return {
    name,
    docs,
    authorizationUrl: "https://{host}/rest/oauth2/latest/authorize",
    tokenUrl: "https://{host}/rest/oauth2/latest/token",
    defaultScopes: ["READ"],
    templates: {
      host: {
        pattern: `^(?=.{4,253}$)${LABEL}(?:\\.${LABEL})*\\.[a-z]{2,63}(?::[0-9]{1,5})?$`,
        description: "the host name of the Data Center instance, with its port if not 443",
        example: "confluence.example.com:8443",
      },
    },
  };
}

/** Atlassian Government Cloud: 3LO on its own auth host and API audience. */
function atlassianGov(name: string, scopes: string[]): ProviderEntry {
  return {
    name,
    docs: "https://developer.atlassian.com/platform/framework/agc/guides/manage-3lo-apps",
    authorizationUrl: "https://auth.atlassian-us-gov-mod.com/authorize",
    tokenUrl: "https://auth.atlassian-us-gov-mod.com/oauth/token",
    defaultScopes: ["offline_access", "read:me", ...scopes],
    authorizationParams: { audience: "api.atlassian-us-gov-mod.com", prompt: "consent" },
  };
}

export const providers: Catalog = {
  "google-workspace": google("Google Workspace", [
    "admin.directory.user.readonly",
    "admin.directory.group.readonly",
  ]),
  "google-drive": google("Google Drive", ["drive.readonly"]),
  gmail: google("Gmail", ["gmail.readonly"]),
  "google-calendar": google("Google Calendar", ["calendar.readonly"]),
  "google-meet": google("Google Meet", ["meetings.space.readonly"]),
  "google-docs": google("Google Docs", ["documents.readonly", "drive.readonly"]),
  "google-sheets": google("Google Sheets", ["spreadsheets.readonly", "drive.readonly"]),
  "google-forms": google("Google Forms", ["forms.body.readonly", "forms.responses.readonly"]),
  "google-slides": google("Google Slides", ["presentations.readonly", "drive.readonly"]),

  outlook: microsoft("Outlook", ["Mail.Read", "Calendars.Read"]),
  onedrive: microsoft("OneDrive", ["Files.Read.All"]),
  sharepoint: microsoft("SharePoint", ["Sites.Read.All", "Files.Read.All"]),
  teams: microsoft("Microsoft Teams", [
    "Team.ReadBasic.All",
    "Channel.ReadBasic.All",
    "ChannelMessage.Read.All",
    "Chat.Read",
  ]),

  confluence: atlassian("Confluence", "https://developer.atlassian.com/cloud/confluence/oauth-2-3lo-apps/", [
    "read:confluence-content.all",
    "read:confluence-space.summary",
    "search:confluence",
  ]),
  jira: atlassian("Jira", "https://developer.atlassian.com/cloud/jira/platform/oauth-2-3lo-apps/", [
    "read:jira-work",
    "read:jira-user",
  ]),

  slack: {
    name: "Slack",
    docs: "https://docs.slack.dev/authentication/installing-with-oauth",
    authorizationUrl: "https://slack.com/oauth/v2/authorize",
    tokenUrl: "https://slack.com/api/oauth.v2.access",
    // Slack Web API method, not RFC 7009: it revokes the token that authenticates the call, passed as
    // Bearer (https://docs.slack.dev/reference/methods/auth.revoke). With token rotation access tokens
    // live 12 h, so an expired one is refreshed before revoking (disconnect.ts).
    revocationUrl: "https://slack.com/api/auth.revoke",
    revocationStyle: "bearer",
    defaultScopes: ["channels:history", "channels:read", "groups:history", "groups:read", "users:read"],
    // User tokens: scopes go in user_scope, comma-separated; the token set sits under authed_user;
    // errors come as HTTP 200 {ok: false, error} (token-adapter.ts).
    scopeParam: "user_scope",
    scopeSeparator: ",",
    tokenResponse: {
      tokenSetPath: "authed_user",
      metadata: {
        teamId: "team.id",
        teamName: "team.name",
        enterpriseId: "enterprise.id",
        userId: "authed_user.id",
        appId: "app_id",
      },
    },
    identity: { source: "token_response", id: "authed_user.id" },
    // Slack's PKCE is opt-in per app and turns the app into a public client for good
    // (https://docs.slack.dev/authentication/using-pkce); this service is a confidential client.
    pkce: false,
  },

  notion: {
    name: "Notion",
    docs: "https://developers.notion.com/docs/authorization",
    authorizationUrl: "https://api.notion.com/v1/oauth/authorize",
    tokenUrl: "https://api.notion.com/v1/oauth/token",
    // Like the token endpoint: HTTP Basic, JSON body, Notion-Version header.
    revocationUrl: "https://api.notion.com/v1/oauth/revoke",
    // Capabilities are set on the integration; the authorize endpoint takes no scope.
    defaultScopes: [],
    authorizationParams: { owner: "user" },
    clientAuth: "client_secret_basic",
    // Pinned to a current version (the refresh reference lists 2026-03-11; 2022-06-28 may be refused on
    // refresh and revoke: https://developers.notion.com/reference/refresh-a-token).
    tokenRequest: { format: "json", headers: { "Notion-Version": "2026-03-11" } },
    tokenResponse: {
      metadata: {
        workspaceId: "workspace_id",
        workspaceName: "workspace_name",
        botId: "bot_id",
        ownerUserId: "owner.user.id",
      },
    },
    identity: {
      source: "token_response",
      id: "owner.user.id",
      email: "owner.user.person.email",
      name: "owner.user.name",
    },
    // Notion documents no PKCE and validates its JSON token body; a code_verifier is not sent.
    pkce: false,
  },

  dropbox: {
    name: "Dropbox",
    docs: "https://developers.dropbox.com/oauth-guide",
    authorizationUrl: "https://www.dropbox.com/oauth2/authorize",
    tokenUrl: "https://api.dropboxapi.com/oauth2/token",
    // Not RFC 7009: authenticated with the access token itself (Bearer), no body
    // (https://www.dropbox.com/developers/documentation/http/documentation#auth-token-revoke).
    revocationUrl: "https://api.dropboxapi.com/2/auth/token/revoke",
    revocationStyle: "bearer",
    defaultScopes: ["account_info.read", "files.metadata.read", "files.content.read", "sharing.read"],
    // Without token_access_type=offline Dropbox issues a short-lived token and no refresh token.
    authorizationParams: { token_access_type: "offline" },
    tokenResponse: { metadata: { accountId: "account_id", teamId: "team_id", uid: "uid" } },
    // Dropbox's OpenID issuer (https://www.dropbox.com/.well-known/openid-configuration); no iss on
    // the callback.
    issuer: "https://www.dropbox.com",
    identity: { source: "token_response", id: "account_id" },
  },

  box: {
    name: "Box",
    docs: "https://developer.box.com/guides/authentication/oauth2/",
    authorizationUrl: "https://account.box.com/api/oauth2/authorize",
    tokenUrl: "https://api.box.com/oauth2/token",
    revocationUrl: "https://api.box.com/oauth2/revoke",
    // Refresh tokens rotate (single use). PKCE is not documented by Box; kept on as Box ignores
    // unknown parameters (assumption).
    defaultScopes: ["root_readonly"],
    identity: {
      source: "endpoint",
      url: "https://api.box.com/2.0/users/me",
      id: "id",
      email: "login",
      name: "name",
    },
  },

  github: {
    name: "GitHub",
    docs: "https://docs.github.com/en/apps/oauth-apps/building-oauth-apps/authorizing-oauth-apps",
    authorizationUrl: "https://github.com/login/oauth/authorize",
    tokenUrl: "https://github.com/login/oauth/access_token",
    // GitHub's issuer identifier, sent as `iss` on every authorization response since 2026-04-09
    // (RFC 9207; https://docs.github.com/en/apps/github-authentication-discovery-endpoints).
    issuer: "https://github.com/login/oauth",
    sendsIss: true,
    // No revocation URL: GitHub revokes with DELETE /applications/{client_id}/grant (not RFC 7009).
    defaultScopes: ["repo", "read:org", "read:user"],
    // GitHub answers form-encoded unless asked for JSON, and reports errors as HTTP 200 with `error`
    // (both normalized in token-adapter.ts). PKCE (S256) is supported since 2025-07-14
    // (https://github.blog/changelog/2025-07-14-pkce-support-for-oauth-and-github-app-authentication).
    tokenRequest: { headers: { accept: "application/json" } },
    // `email` is the public profile address (may be null); the REST API wants its media type.
    identity: {
      source: "endpoint",
      url: "https://api.github.com/user",
      headers: { accept: "application/vnd.github+json", "x-github-api-version": "2022-11-28" },
      id: "id",
      email: "email",
      name: "name",
    },
  },

  gitlab: gitlab("GitLab", "https://gitlab.com"),
  "gitlab-self-managed": {
    ...gitlab("GitLab (self-managed)", "https://{host}"),
    templates: {
      host: {
        // A DNS host name only: lowercase labels and an alphabetic TLD, so no IP literal, port, path,
        // userinfo or single-label name (localhost). Served at the root of the host.
        pattern: `^(?=.{4,253}$)${LABEL}(?:\\.${LABEL})*\\.[a-z]{2,63}$`,
        description: "the host name of the GitLab instance",
        example: "gitlab.example.com",
      },
    },
  },

  linear: {
    name: "Linear",
    docs: "https://linear.app/developers/oauth-2-0-authentication",
    authorizationUrl: "https://linear.app/oauth/authorize",
    tokenUrl: "https://api.linear.app/oauth/token",
    // Takes `access_token=` or `refresh_token=` (or Bearer), not RFC 7009's `token`
    // (https://linear.app/developers/oauth-2-0-authentication, "Revoke an access token").
    revocationUrl: "https://api.linear.app/oauth/revoke",
    revocationStyle: "field",
    defaultScopes: ["read"],
    scopeSeparator: ",",
  },

  salesforce: salesforce("Salesforce", "login.salesforce.com"),
  "salesforce-sandbox": salesforce("Salesforce (sandbox)", "test.salesforce.com"),

  zoom: {
    name: "Zoom",
    docs: "https://developers.zoom.us/docs/integrations/oauth/",
    authorizationUrl: "https://zoom.us/oauth/authorize",
    tokenUrl: "https://zoom.us/oauth/token",
    revocationUrl: "https://zoom.us/oauth/revoke",
    // Scopes are chosen on the app in the Zoom Marketplace; the authorize endpoint takes none.
    defaultScopes: [],
    clientAuth: "client_secret_basic",
    tokenResponse: { metadata: { apiUrl: "api_url" } },
    identity: {
      source: "endpoint",
      url: "https://api.zoom.us/v2/users/me",
      id: "id",
      email: "email",
      name: "display_name",
    },
  },

  servicenow: {
    name: "ServiceNow",
    docs: "https://www.servicenow.com/docs/csh?topicname=c_OAuthAuthorizationCodeFlow.html&version=latest",
    authorizationUrl: "https://{instance}/oauth_auth.do",
    // Form-encoded only (a JSON body fails).
    tokenUrl: "https://{instance}/oauth_token.do",
    // Documented as oauth_revoke_token.do?token=<access or refresh token>, "does not require
    // authentication" (servicenow.com docs, t_RevokeOAuthToken).
    revocationUrl: "https://{instance}/oauth_revoke_token.do",
    revocationStyle: "query",
    defaultScopes: ["useraccount"],
    // Instances with a custom URL keep their <name>.service-now.com host, which serves OAuth; a custom
    // domain itself is refused, as it could name any host.
    templates: {
      instance: tenantHost(
        ".service-now.com",
        "the ServiceNow instance name or its service-now.com host",
        "acme.service-now.com",
      ),
    },
  },

  snowflake: {
    name: "Snowflake",
    docs: "https://docs.snowflake.com/en/user-guide/oauth-custom",
    authorizationUrl: "https://{account}/oauth/authorize",
    tokenUrl: "https://{account}/oauth/token-request",
    // refresh_token asks for a refresh token; connectors add session:role:<ROLE> (else the default
    // role). No revocation endpoint.
    defaultScopes: ["refresh_token"],
    clientAuth: "client_secret_basic",
    tokenResponse: { metadata: { username: "username" } },
    identity: { source: "token_response", id: "username" },
    templates: {
      account: {
        // https://docs.snowflake.com/en/user-guide/admin-account-identifier: orgname-account_name
        // (underscores allowed, case-insensitive) or a legacy locator with its region and cloud
        // (xy12345, xy12345.us-east-2.aws), optionally .privatelink; China accounts are on
        // snowflakecomputing.cn. A value without the domain gets snowflakecomputing.com.
        pattern: `^[a-z0-9](?:[a-z0-9_-]{0,253}[a-z0-9])?(?:\\.[a-z]+(?:-[a-z0-9]+)+(?:\\.(?:aws|gcp|azure))?)?(?:\\.privatelink)?\\.snowflakecomputing\\.(?:com|cn)$`,
        domains: [".snowflakecomputing.com", ".snowflakecomputing.cn"],
        description: "the Snowflake account identifier as in its URL (or the whole host)",
        example: "myorg-my_account",
      },
    },
  },

  zendesk: {
    name: "Zendesk",
    docs: "https://developer.zendesk.com/documentation/api-basics/authentication/oauth-pkce/",
    authorizationUrl: "https://{subdomain}/oauth/authorizations/new",
    tokenUrl: "https://{subdomain}/oauth/tokens",
    // No revocation URL: Zendesk revokes with DELETE /api/v2/oauth/tokens/{id} (not RFC 7009).
    defaultScopes: ["read"],
    identity: {
      source: "endpoint",
      url: "https://{subdomain}/api/v2/users/me",
      id: "user.id",
      email: "user.email",
      name: "user.name",
    },
    templates: {
      subdomain: tenantHost(".zendesk.com", "the Zendesk subdomain or its zendesk.com host", "acme"),
    },
  },

  // ---- Enterprise-search sources (PROVIDERS.md, last table); sources per entry in docs/providers.md ----

  "google-chat": google("Google Chat", ["chat.spaces.readonly", "chat.messages.readonly"]),

  "confluence-data-center": dataCenter(
    "Confluence Data Center",
    "https://confluence.atlassian.com/doc/confluence-oauth-2-0-provider-api-1108196063.html",
  ),
  "jira-data-center": dataCenter(
    "Jira Data Center",
    "https://confluence.atlassian.com/adminjiraserver/jira-oauth-2-0-provider-api-1115659070.html",
  ),

  // Atlassian Government Cloud: same 3LO flow on its own hosts and audience (unverified: see docs).
  "confluence-gov": atlassianGov("Confluence (Government Cloud)", [
    "read:confluence-content.all",
    "search:confluence",
  ]),
  "jira-gov": atlassianGov("Jira (Government Cloud)", ["read:jira-work", "read:jira-user"]),

  hubspot: {
    name: "HubSpot",
    docs: "https://developers.hubspot.com/docs/api/oauth-quickstart-guide",
    authorizationUrl: "https://app.hubspot.com/oauth/authorize",
    tokenUrl: "https://api.hubapi.com/oauth/v1/token",
    // No RFC 7009 endpoint (refresh tokens are deleted with DELETE /oauth/v1/refresh-tokens/{token}).
    defaultScopes: ["oauth", "crm.objects.contacts.read", "crm.objects.companies.read"],
    // The portal (hub) id, where the token response names it; else it comes from the token info API.
    tokenResponse: { metadata: { portalId: "hub_id" } },
  },

  asana: {
    name: "Asana",
    docs: "https://developers.asana.com/docs/oauth",
    authorizationUrl: "https://app.asana.com/-/oauth_authorize",
    tokenUrl: "https://app.asana.com/-/oauth_token",
    revocationUrl: "https://app.asana.com/-/oauth_revoke",
    defaultScopes: ["default"],
    // The token response names the user (data.gid, data.email, data.name).
    identity: { source: "token_response", id: "data.gid", email: "data.email", name: "data.name" },
  },

  clickup: {
    name: "ClickUp",
    docs: "https://developer.clickup.com/docs/authentication",
    authorizationUrl: "https://app.clickup.com/api",
    tokenUrl: "https://api.clickup.com/api/v2/oauth/token",
    // Tokens do not expire and there is no refresh or revocation endpoint; no scopes; no PKCE documented.
    defaultScopes: [],
    pkce: false,
  },

  airtable: {
    name: "Airtable",
    docs: "https://airtable.com/developers/web/api/oauth-reference",
    authorizationUrl: "https://airtable.com/oauth2/v1/authorize",
    tokenUrl: "https://airtable.com/oauth2/v1/token",
    // PKCE is required; confidential clients authenticate with HTTP Basic; refresh tokens rotate.
    defaultScopes: ["data.records:read", "schema.bases:read", "user.email:read"],
    clientAuth: "client_secret_basic",
    identity: {
      source: "endpoint",
      url: "https://api.airtable.com/v0/meta/whoami",
      id: "id",
      email: "email",
    },
  },

  monday: {
    name: "monday.com",
    docs: "https://developer.monday.com/apps/docs/oauth",
    authorizationUrl: "https://auth.monday.com/oauth2/authorize",
    tokenUrl: "https://auth.monday.com/oauth2/token",
    // Tokens do not expire (no refresh). PKCE is not supported; force_install_if_needed installs the
    // app on the account when it is not yet.
    defaultScopes: ["me:read", "boards:read", "docs:read"],
    authorizationParams: { force_install_if_needed: "true" },
    pkce: false,
  },

  figma: {
    name: "Figma",
    docs: "https://developers.figma.com/docs/rest-api/authentication/",
    authorizationUrl: "https://www.figma.com/oauth",
    tokenUrl: "https://api.figma.com/v1/oauth/token",
    // Refresh grants go to their own endpoint; HTTP Basic; comma-separated scopes; no PKCE.
    refreshUrl: "https://api.figma.com/v1/oauth/refresh",
    defaultScopes: ["current_user:read", "file_content:read", "file_metadata:read"],
    scopeSeparator: ",",
    clientAuth: "client_secret_basic",
    tokenResponse: { metadata: { userId: "user_id_string" } },
    identity: { source: "token_response", id: "user_id_string" },
    pkce: false,
  },

  intercom: {
    name: "Intercom",
    docs: "https://developers.intercom.com/docs/build-an-integration/learn-more/authentication/setting-up-oauth",
    // Regional workspaces have their own app and API hosts (US, EU, Australia).
    authorizationUrl: "https://app.{region}.com/oauth",
    tokenUrl: "https://api.{region}.io/auth/eagle/token",
    // Permissions are set on the app; tokens do not expire; no PKCE documented.
    defaultScopes: [],
    pkce: false,
    templates: {
      region: {
        pattern: "^(?:intercom|eu\\.intercom|au\\.intercom)$",
        default: "intercom",
        aliases: { us: "intercom", eu: "eu.intercom", au: "au.intercom" },
        description: "the Intercom region of the workspace: us, eu or au",
        example: "eu",
      },
    },
  },

  egnyte: {
    name: "Egnyte",
    docs: "https://developers.egnyte.com/docs/read/Public_API_Authentication",
    authorizationUrl: "https://{domain}/puboauth/token",
    tokenUrl: "https://{domain}/puboauth/token",
    // Long-lived tokens (no refresh, no revocation endpoint); no PKCE documented.
    defaultScopes: ["Egnyte.filesystem", "Egnyte.user"],
    pkce: false,
    templates: { domain: tenantHost(".egnyte.com", "the Egnyte domain or its egnyte.com host", "acme") },
  },

  smartsheet: {
    name: "Smartsheet",
    docs: "https://developers.smartsheet.com/api/smartsheet/guides/advanced-topics/oauth",
    // Regions: smartsheet.com (US), smartsheet.eu, smartsheet.au, smartsheetgov.com.
    authorizationUrl: "https://app.{region}/b/authorize",
    tokenUrl: "https://api.{region}/2.0/token",
    defaultScopes: ["READ_SHEETS", "READ_USERS"],
    pkce: false,
    templates: {
      region: {
        pattern: "^(?:smartsheet\\.com|smartsheet\\.eu|smartsheet\\.au|smartsheetgov\\.com)$",
        default: "smartsheet.com",
        aliases: { us: "smartsheet.com", eu: "smartsheet.eu", au: "smartsheet.au", gov: "smartsheetgov.com" },
        description: "the Smartsheet region: us, eu, au or gov",
        example: "eu",
      },
    },
  },

  webex: {
    name: "Webex",
    docs: "https://developer.webex.com/docs/integrations",
    authorizationUrl: "https://webexapis.com/v1/authorize",
    tokenUrl: "https://webexapis.com/v1/access_token",
    defaultScopes: ["spark:people_read", "spark:rooms_read", "spark:messages_read"],
    identity: {
      source: "endpoint",
      url: "https://webexapis.com/v1/people/me",
      id: "id",
      email: "emails.0",
      name: "displayName",
    },
  },

  discord: {
    name: "Discord",
    docs: "https://discord.com/developers/docs/topics/oauth2",
    authorizationUrl: "https://discord.com/oauth2/authorize",
    tokenUrl: "https://discord.com/api/oauth2/token",
    revocationUrl: "https://discord.com/api/oauth2/token/revoke",
    defaultScopes: ["identify", "email", "guilds"],
    identity: {
      source: "endpoint",
      url: "https://discord.com/api/users/@me",
      id: "id",
      email: "email",
      emailVerified: "verified",
      name: "username",
    },
  },

  bitbucket: {
    name: "Bitbucket",
    docs: "https://developer.atlassian.com/cloud/bitbucket/oauth-2/",
    authorizationUrl: "https://bitbucket.org/site/oauth2/authorize",
    tokenUrl: "https://bitbucket.org/site/oauth2/access_token",
    // Scopes are set on the OAuth consumer; client authentication is HTTP Basic. Access tokens live 2 h.
    defaultScopes: [],
    clientAuth: "client_secret_basic",
    identity: {
      source: "endpoint",
      url: "https://api.bitbucket.org/2.0/user",
      id: "uuid",
      name: "display_name",
    },
  },

  miro: {
    name: "Miro",
    docs: "https://developers.miro.com/docs/getting-started-with-oauth",
    authorizationUrl: "https://miro.com/oauth/authorize",
    tokenUrl: "https://api.miro.com/v1/oauth/token",
    // Scopes are set on the app. Refresh only for apps with expiring tokens.
    defaultScopes: [],
    pkce: false,
  },

  basecamp: {
    name: "Basecamp",
    docs: "https://github.com/basecamp/api/blob/master/sections/authentication.md",
    authorizationUrl: "https://launchpad.37signals.com/authorization/new",
    tokenUrl: "https://launchpad.37signals.com/authorization/token",
    // Launchpad's pre-RFC flow: type=web_server on the authorization and token requests, type=refresh
    // on refresh. No scopes; no PKCE.
    defaultScopes: [],
    authorizationParams: { type: "web_server" },
    tokenRequest: { params: { type: "web_server" }, refreshParams: { type: "refresh" } },
    pkce: false,
    identity: {
      source: "endpoint",
      url: "https://launchpad.37signals.com/authorization.json",
      id: "identity.id",
      email: "identity.email_address",
      name: "identity.first_name",
    },
  },

  front: {
    name: "Front",
    docs: "https://dev.frontapp.com/docs/oauth",
    authorizationUrl: "https://app.frontapp.com/oauth/authorize",
    tokenUrl: "https://app.frontapp.com/oauth/token",
    defaultScopes: [],
    clientAuth: "client_secret_basic",
    pkce: false,
  },

  gong: {
    name: "Gong",
    docs: "https://help.gong.io/docs/create-an-app-for-gong",
    authorizationUrl: "https://app.gong.io/oauth2/authorize",
    tokenUrl: "https://app.gong.io/oauth2/generate-customer-token",
    defaultScopes: ["api:calls:read:basic", "api:users:read"],
    clientAuth: "client_secret_basic",
    // API calls go to the customer's own base URL, named only in the token response.
    tokenResponse: { metadata: { apiBaseUrl: "api_base_url_for_customer" } },
    pkce: false,
  },

  wrike: {
    name: "Wrike",
    docs: "https://developers.wrike.com/oauth-20-authorization/",
    authorizationUrl: "https://login.wrike.com/oauth2/authorize/v4",
    tokenUrl: "https://login.wrike.com/oauth2/token",
    defaultScopes: ["Default"],
    // The account's API host (www.wrike.com or app-eu.wrike.com), named in the token response.
    tokenResponse: { metadata: { host: "host" } },
    pkce: false,
  },

  "zoho-desk": {
    name: "Zoho Desk",
    docs: "https://desk.zoho.com/DeskAPIDocument#OauthTokens",
    // One accounts server per data centre (zoho.com, zoho.eu, zoho.in, ...).
    authorizationUrl: "https://accounts.{dc}/oauth/v2/auth",
    tokenUrl: "https://accounts.{dc}/oauth/v2/token",
    revocationUrl: "https://accounts.{dc}/oauth/v2/token/revoke",
    revocationStyle: "query",
    defaultScopes: ["Desk.tickets.READ", "Desk.basic.READ", "Desk.articles.READ"],
    scopeSeparator: ",",
    // Without access_type=offline Zoho returns no refresh token; prompt=consent asks again.
    authorizationParams: { access_type: "offline", prompt: "consent" },
    tokenResponse: { metadata: { apiDomain: "api_domain" } },
    pkce: false,
    templates: {
      dc: {
        pattern:
          "^(?:zoho\\.com|zoho\\.eu|zoho\\.in|zoho\\.com\\.au|zoho\\.jp|zohocloud\\.ca|zoho\\.sa|zoho\\.com\\.cn)$",
        default: "zoho.com",
        aliases: {
          us: "zoho.com",
          eu: "zoho.eu",
          in: "zoho.in",
          au: "zoho.com.au",
          jp: "zoho.jp",
          ca: "zohocloud.ca",
          sa: "zoho.sa",
          cn: "zoho.com.cn",
        },
        description: "the Zoho data centre: us, eu, in, au, jp, ca, sa or cn",
        example: "eu",
      },
    },
  },

  shortcut: {
    name: "Shortcut",
    docs: "https://developer.shortcut.com/api/rest/v3",
    authorizationUrl: "https://api.app.shortcut.com/oauth-authorization-code-flow/code",
    tokenUrl: "https://api.app.shortcut.com/oauth-authorization-code-flow/token",
    defaultScopes: ["openid"],
    pkce: false,
  },

  productboard: {
    name: "Productboard",
    docs: "https://developer.productboard.com/reference/authentication",
    authorizationUrl: "https://app.productboard.com/oauth2/authorize",
    tokenUrl: "https://app.productboard.com/oauth2/token",
    defaultScopes: ["product_hierarchy_data:read", "notes:read"],
    pkce: false,
  },

  "help-scout": {
    name: "Help Scout",
    docs: "https://developer.helpscout.com/mailbox-api/overview/authentication/",
    authorizationUrl: "https://secure.helpscout.net/authentication/authorizeClientApplication",
    tokenUrl: "https://api.helpscout.net/v2/oauth2/token",
    // Access tokens live 2 days; refresh tokens are single use. No scopes; no PKCE.
    defaultScopes: [],
    pkce: false,
  },
};
