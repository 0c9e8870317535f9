/**
 * The provider catalog as data. Each entry names the documentation it follows. Google and
 * Microsoft entries share one definition per family; only name and default scopes differ.
 */
import type { Catalog, ProviderEntry } from "./catalog.ts";

const googleBase = {
  family: "google",
  docs: "https://developers.google.com/identity/protocols/oauth2/web-server",
  authorizationUrl: "https://accounts.google.com/o/oauth2/v2/auth",
  tokenUrl: "https://oauth2.googleapis.com/token",
  revocationUrl: "https://oauth2.googleapis.com/revoke",
  issuer: "https://accounts.google.com",
  jwksUrl: "https://www.googleapis.com/oauth2/v3/certs",
  // Without offline access and a consent prompt Google returns no refresh token.
  authorizationParams: { access_type: "offline", prompt: "consent", include_granted_scopes: "true" },
} as const satisfies Partial<ProviderEntry>;

function google(name: string, scopes: string[]): ProviderEntry {
  return { ...googleBase, name, defaultScopes: ["openid", "email", ...scopes] };
}

const GOOGLE_API = "https://www.googleapis.com/auth";

const microsoftBase = {
  family: "microsoft",
  docs: "https://learn.microsoft.com/entra/identity-platform/v2-oauth2-auth-code-flow",
  authorizationUrl: "https://login.microsoftonline.com/{tenant}/oauth2/v2.0/authorize",
  tokenUrl: "https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token",
  authorizationParams: { response_mode: "query" },
  templates: {
    tenant: {
      // common | organizations | consumers | a tenant GUID | a verified domain (lowercase labels).
      pattern:
        "^(common|organizations|consumers|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[a-z0-9][a-z0-9-]{0,62}(\\.[a-z0-9][a-z0-9-]{0,62}){1,4})$",
      default: "common",
      description: "Entra ID tenant: common, organizations, consumers, a tenant id or a domain",
    },
  },
} as const satisfies Partial<ProviderEntry>;

function microsoft(name: string, scopes: string[]): ProviderEntry {
  // offline_access is what makes Microsoft return a refresh token.
  return { ...microsoftBase, name, defaultScopes: ["openid", "email", "offline_access", ...scopes] };
}

export const providers: Catalog = {
  "google-workspace": google("Google Workspace", [
    `${GOOGLE_API}/admin.directory.user.readonly`,
    `${GOOGLE_API}/admin.directory.group.readonly`,
  ]),
  "google-drive": google("Google Drive", [`${GOOGLE_API}/drive.readonly`]),
  gmail: google("Gmail", [`${GOOGLE_API}/gmail.readonly`]),
  "google-calendar": google("Google Calendar", [`${GOOGLE_API}/calendar.readonly`]),
  outlook: microsoft("Outlook", [
    "https://graph.microsoft.com/Mail.Read",
    "https://graph.microsoft.com/User.Read",
  ]),
  onedrive: microsoft("OneDrive", ["https://graph.microsoft.com/Files.Read.All"]),
  sharepoint: microsoft("SharePoint", ["https://graph.microsoft.com/Sites.Read.All"]),
  teams: microsoft("Microsoft Teams", ["https://graph.microsoft.com/ChannelMessage.Read.All"]),
  slack: {
    name: "Slack",
    docs: "https://api.slack.com/authentication/oauth-v2",
    authorizationUrl: "https://slack.com/oauth/v2/authorize",
    tokenUrl: "https://slack.com/api/oauth.v2.access",
    revocationUrl: "https://slack.com/api/auth.revoke",
    defaultScopes: ["channels:history", "channels:read", "users:read"],
    // User tokens: scopes go in user_scope, comma-separated; the token set sits under authed_user.
    scopeParam: "user_scope",
    scopeSeparator: ",",
    tokenResponse: { tokenSetPath: "authed_user", metadata: { teamId: "team.id", teamName: "team.name" } },
  },
  notion: {
    name: "Notion",
    docs: "https://developers.notion.com/docs/authorization",
    authorizationUrl: "https://api.notion.com/v1/oauth/authorize",
    tokenUrl: "https://api.notion.com/v1/oauth/token",
    defaultScopes: [],
    authorizationParams: { owner: "user" },
    clientAuth: "client_secret_basic",
    tokenRequest: { format: "json", headers: { "Notion-Version": "2022-06-28" } },
    tokenResponse: {
      metadata: { workspaceId: "workspace_id", workspaceName: "workspace_name", botId: "bot_id" },
    },
  },
};
