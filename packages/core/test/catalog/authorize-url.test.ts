/**
 * The authorization URL the service builds for each catalog provider: exactly the expected
 * parameters, none empty or a placeholder, and the reserved ones never overridable.
 */
import { describe, expect, it } from "vitest";
import {
  type Catalog,
  type CatalogOptions,
  CUSTOM_PROVIDER,
  type ProviderEntry,
  resolveProvider,
} from "../../src/catalog.ts";
import { buildAuthorizationUrl } from "../../src/oauth.ts";
import { providers } from "../../src/providers.ts";
import type { ConnectorConfig } from "../../src/types.ts";
import { connector } from "../fixtures.ts";

const REDIRECT_URI = "https://api.example.com/connectors/oauth/callback";
const STATE = "v1.state-value";
const CHALLENGE = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSkW7P1A";
const options: CatalogOptions = { catalog: providers, allowLoopbackHttp: false };

/** What startConnect does: a challenge only when the provider takes PKCE. */
function authorizationUrl(config: ConnectorConfig, catalog = options) {
  const provider = resolveProvider(config, catalog);
  const codeChallenge = provider.pkce ? CHALLENGE : undefined;
  return new URL(
    buildAuthorizationUrl(provider, {
      clientId: config.clientId,
      redirectUri: REDIRECT_URI,
      state: STATE,
      codeChallenge,
    }),
  );
}

const base = { client_id: "client-1", redirect_uri: REDIRECT_URI, response_type: "code", state: STATE };
const pkce = { code_challenge: CHALLENGE, code_challenge_method: "S256" };
const GOOGLE = "https://www.googleapis.com/auth";
const GRAPH = "https://graph.microsoft.com";
const google = (scopes: string[]) => ({
  endpoint: "https://accounts.google.com/o/oauth2/v2/auth",
  params: {
    ...base,
    ...pkce,
    scope: ["openid", "email", ...scopes.map((s) => `${GOOGLE}/${s}`)].join(" "),
    access_type: "offline",
    prompt: "consent",
    include_granted_scopes: "true",
  },
});
const microsoft = (scopes: string[]) => ({
  endpoint: "https://login.microsoftonline.com/common/oauth2/v2.0/authorize",
  params: {
    ...base,
    ...pkce,
    scope: ["offline_access", ...["User.Read", ...scopes].map((s) => `${GRAPH}/${s}`)].join(" "),
    response_mode: "query",
  },
});
const atlassian = (scopes: string[]) => ({
  endpoint: "https://auth.atlassian.com/authorize",
  params: {
    ...base,
    ...pkce,
    scope: ["offline_access", "read:me", ...scopes].join(" "),
    audience: "api.atlassian.com",
    prompt: "consent",
  },
});

const cases: Record<
  string,
  { connectorParams?: Record<string, string>; endpoint: string; params: Record<string, string> }
> = {
  "google-workspace": google(["admin.directory.user.readonly", "admin.directory.group.readonly"]),
  "google-drive": google(["drive.readonly"]),
  gmail: google(["gmail.readonly"]),
  "google-calendar": google(["calendar.readonly"]),
  "google-meet": google(["meetings.space.readonly"]),
  "google-docs": google(["documents.readonly", "drive.readonly"]),
  "google-sheets": google(["spreadsheets.readonly", "drive.readonly"]),
  "google-forms": google(["forms.body.readonly", "forms.responses.readonly"]),
  "google-slides": google(["presentations.readonly", "drive.readonly"]),
  outlook: microsoft(["Mail.Read", "Calendars.Read"]),
  onedrive: microsoft(["Files.Read.All"]),
  sharepoint: microsoft(["Sites.Read.All", "Files.Read.All"]),
  teams: microsoft(["Team.ReadBasic.All", "Channel.ReadBasic.All", "ChannelMessage.Read.All", "Chat.Read"]),
  confluence: atlassian([
    "read:confluence-content.all",
    "read:confluence-space.summary",
    "search:confluence",
  ]),
  jira: atlassian(["read:jira-work", "read:jira-user"]),
  slack: {
    endpoint: "https://slack.com/oauth/v2/authorize",
    // No PKCE and no `scope`: user scopes only, comma-separated.
    params: { ...base, user_scope: "channels:history,channels:read,groups:history,groups:read,users:read" },
  },
  notion: {
    endpoint: "https://api.notion.com/v1/oauth/authorize",
    // No scope parameter at all (capabilities live on the integration), no PKCE.
    params: { ...base, owner: "user" },
  },
  dropbox: {
    endpoint: "https://www.dropbox.com/oauth2/authorize",
    params: {
      ...base,
      ...pkce,
      scope: "account_info.read files.metadata.read files.content.read sharing.read",
      token_access_type: "offline",
    },
  },
  box: {
    endpoint: "https://account.box.com/api/oauth2/authorize",
    params: { ...base, ...pkce, scope: "root_readonly" },
  },
  github: {
    endpoint: "https://github.com/login/oauth/authorize",
    params: { ...base, ...pkce, scope: "repo read:org read:user" },
  },
  gitlab: {
    endpoint: "https://gitlab.com/oauth/authorize",
    params: { ...base, ...pkce, scope: "read_api read_user read_repository" },
  },
  "gitlab-self-managed": {
    connectorParams: { host: "gitlab.acme.io" },
    endpoint: "https://gitlab.acme.io/oauth/authorize",
    params: { ...base, ...pkce, scope: "read_api read_user read_repository" },
  },
  linear: { endpoint: "https://linear.app/oauth/authorize", params: { ...base, ...pkce, scope: "read" } },
  salesforce: {
    endpoint: "https://login.salesforce.com/services/oauth2/authorize",
    params: { ...base, ...pkce, scope: "api refresh_token" },
  },
  "salesforce-sandbox": {
    endpoint: "https://test.salesforce.com/services/oauth2/authorize",
    params: { ...base, ...pkce, scope: "api refresh_token" },
  },
  // Scopes are configured on the Zoom app: no scope parameter.
  zoom: { endpoint: "https://zoom.us/oauth/authorize", params: { ...base, ...pkce } },
  servicenow: {
    connectorParams: { instance: "acme" },
    endpoint: "https://acme.service-now.com/oauth_auth.do",
    params: { ...base, ...pkce, scope: "useraccount" },
  },
  snowflake: {
    connectorParams: { account: "myorg-analytics" },
    endpoint: "https://myorg-analytics.snowflakecomputing.com/oauth/authorize",
    params: { ...base, ...pkce, scope: "refresh_token" },
  },
  zendesk: {
    connectorParams: { subdomain: "acme" },
    endpoint: "https://acme.zendesk.com/oauth/authorizations/new",
    params: { ...base, ...pkce, scope: "read" },
  },
  "google-chat": google(["chat.spaces.readonly", "chat.messages.readonly"]),
  "confluence-data-center": {
    connectorParams: { host: "wiki.acme.io:8443" },
    endpoint: "https://wiki.acme.io:8443/rest/oauth2/latest/authorize",
    params: { ...base, ...pkce, scope: "READ" },
  },
  "jira-data-center": {
    connectorParams: { host: "jira.acme.io" },
    endpoint: "https://jira.acme.io/rest/oauth2/latest/authorize",
    params: { ...base, ...pkce, scope: "READ" },
  },
  "confluence-gov": {
    endpoint: "https://auth.atlassian-us-gov-mod.com/authorize",
    params: {
      ...base,
      ...pkce,
      audience: "api.atlassian-us-gov-mod.com",
      prompt: "consent",
      scope: "offline_access read:me read:confluence-content.all search:confluence",
    },
  },
  "jira-gov": {
    endpoint: "https://auth.atlassian-us-gov-mod.com/authorize",
    params: {
      ...base,
      ...pkce,
      audience: "api.atlassian-us-gov-mod.com",
      prompt: "consent",
      scope: "offline_access read:me read:jira-work read:jira-user",
    },
  },
  hubspot: {
    endpoint: "https://app.hubspot.com/oauth/authorize",
    params: { ...base, ...pkce, scope: "oauth crm.objects.contacts.read crm.objects.companies.read" },
  },
  asana: {
    endpoint: "https://app.asana.com/-/oauth_authorize",
    params: { ...base, ...pkce, scope: "default" },
  },
  clickup: { endpoint: "https://app.clickup.com/api", params: base },
  airtable: {
    endpoint: "https://airtable.com/oauth2/v1/authorize",
    params: { ...base, ...pkce, scope: "data.records:read schema.bases:read user.email:read" },
  },
  monday: {
    endpoint: "https://auth.monday.com/oauth2/authorize",
    params: { ...base, scope: "me:read boards:read docs:read", force_install_if_needed: "true" },
  },
  figma: {
    endpoint: "https://www.figma.com/oauth",
    params: { ...base, scope: "current_user:read,file_content:read,file_metadata:read" },
  },
  intercom: {
    connectorParams: { region: "eu" },
    endpoint: "https://app.eu.intercom.com/oauth",
    params: base,
  },
  egnyte: {
    connectorParams: { domain: "acme" },
    endpoint: "https://acme.egnyte.com/puboauth/token",
    params: { ...base, scope: "Egnyte.filesystem Egnyte.user" },
  },
  smartsheet: {
    connectorParams: { region: "eu" },
    endpoint: "https://app.smartsheet.eu/b/authorize",
    params: { ...base, scope: "READ_SHEETS READ_USERS" },
  },
  webex: {
    endpoint: "https://webexapis.com/v1/authorize",
    params: { ...base, ...pkce, scope: "spark:people_read spark:rooms_read spark:messages_read" },
  },
  discord: {
    endpoint: "https://discord.com/oauth2/authorize",
    params: { ...base, ...pkce, scope: "identify email guilds" },
  },
  bitbucket: { endpoint: "https://bitbucket.org/site/oauth2/authorize", params: { ...base, ...pkce } },
  miro: { endpoint: "https://miro.com/oauth/authorize", params: base },
  basecamp: {
    endpoint: "https://launchpad.37signals.com/authorization/new",
    params: { ...base, type: "web_server" },
  },
  front: { endpoint: "https://app.frontapp.com/oauth/authorize", params: base },
  gong: {
    endpoint: "https://app.gong.io/oauth2/authorize",
    params: { ...base, scope: "api:calls:read:basic api:users:read" },
  },
  wrike: { endpoint: "https://login.wrike.com/oauth2/authorize/v4", params: { ...base, scope: "Default" } },
  "zoho-desk": {
    connectorParams: { dc: "eu" },
    endpoint: "https://accounts.zoho.eu/oauth/v2/auth",
    params: {
      ...base,
      access_type: "offline",
      prompt: "consent",
      scope: "Desk.tickets.READ,Desk.basic.READ,Desk.articles.READ",
    },
  },
  shortcut: {
    endpoint: "https://api.app.shortcut.com/oauth-authorization-code-flow/code",
    params: { ...base, scope: "openid" },
  },
  productboard: {
    endpoint: "https://app.productboard.com/oauth2/authorize",
    params: { ...base, scope: "product_hierarchy_data:read notes:read" },
  },
  "help-scout": {
    endpoint: "https://secure.helpscout.net/authentication/authorizeClientApplication",
    params: base,
  },
};

function paramsOf(url: URL): Record<string, string> {
  return Object.fromEntries(url.searchParams);
}

describe("buildAuthorizationUrl", () => {
  it("has a case for every catalog entry", () => {
    expect(Object.keys(cases).sort()).toEqual(Object.keys(providers).sort());
  });

  it.each(Object.entries(cases))("builds exactly the expected parameters for %s", (key, expected) => {
    const url = authorizationUrl(connector(key, { params: expected.connectorParams }));
    expect(`${url.origin}${url.pathname}`).toBe(expected.endpoint);
    expect(paramsOf(url)).toEqual(expected.params);
    for (const name of url.searchParams.keys()) expect(url.searchParams.getAll(name)).toHaveLength(1);
  });

  it.each(Object.keys(cases))("never sends an empty or placeholder value for %s", (key) => {
    const url = authorizationUrl(connector(key, { params: cases[key]?.connectorParams }));
    for (const [name, value] of url.searchParams) {
      expect(value.trim(), name).not.toBe("");
      expect(["none", "null", "undefined", "nan"], name).not.toContain(value.toLowerCase());
      expect(value, name).not.toMatch(/\{\w+\}/);
    }
  });

  it("uses the default scopes for an empty choice and omits the parameter when there are none", () => {
    const url = authorizationUrl(connector("github", { scopes: [] }));
    expect(url.searchParams.get("scope")).toBe("repo read:org read:user");
    const zoom = authorizationUrl(connector("zoom"));
    expect(zoom.searchParams.has("scope")).toBe(false);
  });

  it("sends the connector's scopes with the provider's name and separator", () => {
    const slack = authorizationUrl(connector("slack", { scopes: ["search:read", "files:read"] }));
    expect(slack.searchParams.get("user_scope")).toBe("search:read,files:read");
    expect(slack.searchParams.has("scope")).toBe(false);
    const linear = authorizationUrl(connector("linear", { scopes: ["read", "write"] }));
    expect(linear.searchParams.get("scope")).toBe("read,write");
  });

  it("fills the tenant, or uses its default", () => {
    const tenant = "8eaef023-2b34-4da1-9baa-8bc8c9d6a490";
    expect(authorizationUrl(connector("teams", { params: { tenant } })).pathname).toBe(
      `/${tenant}/oauth2/v2.0/authorize`,
    );
    expect(
      authorizationUrl(connector("teams", { params: { tenant: "contoso.onmicrosoft.com" } })).pathname,
    ).toBe("/contoso.onmicrosoft.com/oauth2/v2.0/authorize");
    expect(authorizationUrl(connector("outlook")).pathname).toBe("/common/oauth2/v2.0/authorize");
  });

  it("builds a custom oauth2 provider's URL from its own endpoints", () => {
    const custom = connector(CUSTOM_PROVIDER, {
      scopes: ["read"],
      endpoints: {
        authorizationUrl: "https://idp.example.com/authorize",
        tokenUrl: "https://idp.example.com/token",
      },
    });
    expect(paramsOf(authorizationUrl(custom))).toEqual({ ...base, ...pkce, scope: "read" });
    const noPkce = {
      ...custom,
      endpoints: { ...(custom.endpoints as NonNullable<typeof custom.endpoints>), pkce: false },
    };
    expect(paramsOf(authorizationUrl(noPkce))).toEqual({ ...base, scope: "read" });
  });
});

describe("reserved authorization parameters", () => {
  const hostile: ProviderEntry = {
    name: "Hostile",
    docs: "https://example.com/docs",
    // A query in the endpoint itself must not survive either.
    authorizationUrl:
      "https://idp.example.com/authorize?client_id=evil&state=evil&redirect_uri=https%3A%2F%2Fevil.com",
    tokenUrl: "https://idp.example.com/token",
    defaultScopes: ["read"],
    authorizationParams: {
      client_id: "evil-client",
      redirect_uri: "https://evil.com/callback",
      response_type: "token",
      state: "attacker-state",
      code_challenge: "attacker-challenge",
      code_challenge_method: "plain",
      scope: "admin",
      prompt: "consent",
    },
  };
  const catalog: Catalog = { hostile, "hostile-no-pkce": { ...hostile, pkce: false } };

  it("cannot be overridden by an entry's parameters or its endpoint's query", () => {
    const url = authorizationUrl(connector("hostile"), { catalog, allowLoopbackHttp: false });
    expect(paramsOf(url)).toEqual({ ...base, ...pkce, scope: "read", prompt: "consent" });
  });

  it("removes an entry's PKCE parameters when the provider takes no PKCE", () => {
    const url = authorizationUrl(connector("hostile-no-pkce"), { catalog, allowLoopbackHttp: false });
    expect(paramsOf(url)).toEqual({ ...base, scope: "read", prompt: "consent" });
  });

  it("keeps the provider's scope parameter out of an entry's reach", () => {
    const slackLike: Catalog = {
      s: {
        ...hostile,
        authorizationUrl: "https://idp.example.com/authorize",
        scopeParam: "user_scope",
        authorizationParams: { user_scope: "admin" },
      },
    };
    const url = authorizationUrl(connector("s"), { catalog: slackLike, allowLoopbackHttp: false });
    expect(url.searchParams.get("user_scope")).toBe("read");
  });

  it.each([
    "client_id",
    "redirect_uri",
    "response_type",
    "state",
    "code_challenge",
    "code_challenge_method",
    "scope",
  ])("cannot be set through a connector parameter named %s", (name) => {
    expect(() => authorizationUrl(connector("google-drive", { params: { [name]: "x" } }))).toThrow(
      expect.objectContaining({ code: "invalid_request" }),
    );
    expect(() =>
      authorizationUrl(connector("servicenow", { params: { instance: "acme", [name]: "x" } })),
    ).toThrow(expect.objectContaining({ code: "invalid_request" }));
  });
});
