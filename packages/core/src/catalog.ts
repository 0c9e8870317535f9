/**
 * The provider catalog's schema and its resolution for one connector. Entries are data
 * (providers.ts); provider quirks are fields here, interpreted in exactly one place each
 * (authorization URL in oauth.ts, token request/response in token-adapter.ts).
 */

import { assertPublicHost } from "./endpoint-safety.ts";
import { fail } from "./errors.ts";
import type { ConnectorConfig } from "./types.ts";

export interface TemplateParam {
  /** Anchored pattern every (normalised) value must match, e.g. ^[a-z0-9][a-z0-9-]{0,62}$ */
  pattern: string;
  default?: string;
  /** What the value is, for people: shown in error messages (never the pattern). */
  description: string;
  /** A valid value, shown in error messages. */
  example: string;
  /**
   * The provider's domains, for templates holding a whole host: a value ending in none of them gets
   * the first appended, so `acme` and a pasted `acme.service-now.com` both mean the same host.
   */
  domains?: string[];
  /** Short names for values (cloud: usgov means login.microsoftonline.us). */
  aliases?: Record<string, string>;
}

export type RevocationStyle = "rfc7009" | "bearer" | "field" | "query";

export interface ProviderEntry {
  name: string;
  /** Provider documentation this entry follows. */
  docs: string;
  /** Catalog group: the legacy code exchange accepts only `google` connectors. */
  family?: "google" | "microsoft" | "atlassian";
  /** URLs may contain {param} placeholders filled from the connector's validated params. */
  authorizationUrl: string;
  tokenUrl: string;
  /** Where refresh grants go when not to the token URL (Figma). */
  refreshUrl?: string;
  revocationUrl?: string;
  /**
   * How the revocation endpoint takes the token (default rfc7009):
   * - rfc7009: form `token` + `token_type_hint`, with the client's authentication (RFC 7009 section 2.1);
   * - bearer: the access token as `Authorization: Bearer`, no body (Dropbox auth/token/revoke, Slack
   *   auth.revoke); it needs a live access token, so an expired one is refreshed first;
   * - field: a form field named after the token's kind, `access_token=` or `refresh_token=` (Linear);
   * - query: `?token=` on the URL, no client authentication (ServiceNow oauth_revoke_token.do).
   */
  revocationStyle?: RevocationStyle;
  /**
   * RFC 9207 issuer (may contain {param}): set only where the provider sends `iss` on its callback or
   * signs id_tokens with a fixed issuer. A callback `iss` must equal it; without it, id_tokens are not
   * kept (token-adapter.ts), since nothing could validate them.
   */
  issuer?: string;
  /** JWKS for verifying id_tokens (legacy code exchange). */
  jwksUrl?: string;
  /** The provider sends `iss` on every authorization response (RFC 9207): a callback without it is refused. */
  sendsIss?: boolean;
  /** Who consented (SPEC 2.2), read after the code exchange; never a secret. */
  identity?: {
    /** token_response: paths in the raw token response; endpoint: GET `url` with the new access token
     * as Bearer, JSON answer; id_token: claims of the verified id_token (needs issuer and jwksUrl). */
    source: "token_response" | "endpoint" | "id_token";
    /** endpoint only; may contain {param} placeholders like the other URLs. */
    url?: string;
    headers?: Record<string, string>;
    /** Dotted paths in the answer. */
    id: string;
    email?: string;
    /** Dotted path of a boolean, or true where the provider only returns verified addresses (cite it). */
    emailVerified?: string | true;
    name?: string;
  };
  defaultScopes: string[];
  /** Name of the scope parameter (Slack user scopes: `user_scope`). Default `scope`. */
  scopeParam?: string;
  /** Default " ". */
  scopeSeparator?: " " | ",";
  /** Extra, fixed authorization parameters (never overridable by callers). */
  authorizationParams?: Record<string, string>;
  /** Default client_secret_post. */
  clientAuth?: "client_secret_post" | "client_secret_basic";
  /** Token request body format (default form) and fixed extra headers. */
  tokenRequest?: {
    format?: "form" | "json";
    headers?: Record<string, string>;
    /** Fixed extra body fields of the code exchange, and of the refresh grant (Basecamp `type`). */
    params?: Record<string, string>;
    refreshParams?: Record<string, string>;
  };
  tokenResponse?: {
    /** Dotted path of the user token set inside the response (Slack: `authed_user`). */
    tokenSetPath?: string;
    /** Metadata to keep: our name -> dotted path in the raw response (e.g. teamId: team.id). */
    metadata?: Record<string, string>;
  };
  /** Default true: S256 PKCE. */
  pkce?: boolean;
  templates?: Record<string, TemplateParam>;
}

export type Catalog = Record<string, ProviderEntry>;

/** Endpoint replacements per provider key, for stand-ins (tests, demos); validated like the catalog. */
export type ProviderOverrides = Record<
  string,
  Partial<
    Pick<
      ProviderEntry,
      "authorizationUrl" | "tokenUrl" | "refreshUrl" | "revocationUrl" | "issuer" | "jwksUrl"
    > & {
      /** Replaces the identity endpoint's URL (identity source `endpoint`). */
      identityUrl: string;
    }
  >
>;

export interface CatalogOptions {
  catalog: Catalog;
  overrides?: ProviderOverrides;
  /** Accept plain http to loopback hosts (local mode only). */
  allowLoopbackHttp: boolean;
}

export interface ResolvedProvider {
  key: string;
  entry: ProviderEntry;
  authorizationUrl: string;
  tokenUrl: string;
  refreshUrl?: string;
  revocationUrl?: string;
  issuer?: string;
  jwksUrl?: string;
  /** A callback without `iss` is refused (RFC 9207). */
  sendsIss: boolean;
  /** The identity endpoint, filled and checked (identity source `endpoint`). */
  identityUrl?: string;
  pkce: boolean;
  scopes: string[];
}

export const CUSTOM_PROVIDER = "oauth2";
const LOOPBACK_HOSTS = new Set(["127.0.0.1", "localhost", "[::1]"]);

/** Throws unless `url` is https (or loopback http when allowed) to a public host (endpoint-safety.ts),
 * with no credentials or fragment. */
export function checkEndpoint(url: string, allowLoopbackHttp: boolean, what = "endpoint"): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw fail("oauth_not_configured", `The provider ${what} is not a valid URL`);
  }
  const loopbackHttp =
    parsed.protocol === "http:" && allowLoopbackHttp && LOOPBACK_HOSTS.has(parsed.hostname);
  if ((parsed.protocol !== "https:" && !loopbackHttp) || parsed.username || parsed.password || parsed.hash) {
    throw fail("oauth_not_configured", `The provider ${what} must be an https URL`);
  }
  assertPublicHost(parsed, allowLoopbackHttp, what);
  return parsed.href;
}

/**
 * Whatever a template's own pattern says, a filled value is only lowercase letters, digits, dots,
 * hyphens and underscores (Snowflake account names), each label starting and ending with a letter or
 * digit, with no empty label, and at most a numeric port at the end (self-hosted Data Center): such a value cannot end a host (`/`, `#`, `?`, `@`, `:`, `%`) or climb a
 * path (`..`), so no pattern mistake can move a request to another host.
 */
export const SAFE_VALUE =
  /^[a-z0-9](?:[a-z0-9_-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9_-]*[a-z0-9])?)*(?::[0-9]{1,5})?$/;
export const MAX_VALUE_LENGTH = 253;

function templateOf(entry: ProviderEntry, name: string): TemplateParam | undefined {
  return entry.templates && Object.hasOwn(entry.templates, name) ? entry.templates[name] : undefined;
}

/**
 * What people paste, in the form the pattern checks: host names are case-insensitive (lowercased),
 * an alias becomes its value, and a host template completes a bare name with the provider's domain.
 * Nothing else is changed (no trimming): a value with anything around it is refused, not guessed at.
 */
function normalizeValue(template: TemplateParam, value: string): string {
  const lower = value.toLowerCase();
  const aliased =
    template.aliases && Object.hasOwn(template.aliases, lower) ? template.aliases[lower] : lower;
  const domains = template.domains ?? [];
  if (!aliased || !domains.length || domains.some((domain) => aliased.endsWith(domain)))
    return aliased ?? lower;
  return `${aliased}${domains[0]}`;
}

function isValidValue(template: TemplateParam, value: unknown): value is string {
  return (
    typeof value === "string" &&
    value.length <= MAX_VALUE_LENGTH &&
    SAFE_VALUE.test(value) &&
    new RegExp(template.pattern).test(value)
  );
}

/** Names the parameter and shows what a valid value looks like (never the pattern). */
function invalidValue(name: string, template: TemplateParam): string {
  return `Provider parameter "${name}" is not valid: ${template.description}, for example "${template.example}"`;
}

/**
 * Validates connector params against the provider's templates (after normalising them, see
 * normalizeValue) and returns the normalised values; unknown names are refused.
 */
export function checkParams(
  entry: ProviderEntry,
  params: Record<string, string> = {},
): Record<string, string> {
  if (!params || typeof params !== "object" || Array.isArray(params)) {
    throw fail("invalid_request", "Provider parameters must be an object of strings");
  }
  const checked: Record<string, string> = {};
  for (const [name, value] of Object.entries(params)) {
    const template = templateOf(entry, name);
    if (!template) throw fail("invalid_request", `Unknown provider parameter "${name}"`);
    const normalized = typeof value === "string" ? normalizeValue(template, value) : value;
    if (!isValidValue(template, normalized)) throw fail("invalid_request", invalidValue(name, template));
    checked[name] = normalized;
  }
  return checked;
}

function fillTemplate(url: string, entry: ProviderEntry, params: Record<string, string>): string {
  return url.replace(/\{(\w+)\}/g, (_, name: string) => {
    const template = templateOf(entry, name);
    const value = Object.hasOwn(params, name) ? params[name] : template?.default;
    if (!template) throw fail("oauth_not_configured", `Provider parameter "${name}" is not defined`);
    if (!isValidValue(template, value)) {
      const example = `${template.description}, for example "${template.example}"`;
      throw fail("oauth_not_configured", `Provider parameter "${name}" is missing or invalid: ${example}`);
    }
    return value;
  });
}

/** The catalog entry of a connector (custom `oauth2` connectors carry their own endpoints). */
export function providerEntry(connector: Pick<ConnectorConfig, "provider" | "endpoints">, catalog: Catalog) {
  if (connector.provider === CUSTOM_PROVIDER) {
    const endpoints = connector.endpoints;
    if (!endpoints) throw fail("oauth_not_configured", "A custom OAuth connector needs endpoints");
    const { userinfoUrl, ...urls } = endpoints;
    return {
      ...urls,
      name: "Custom OAuth 2.0",
      docs: "RFC 6749",
      defaultScopes: [],
      // An OpenID Connect UserInfo endpoint (OpenID Connect Core 1.0 section 5.3): standard claims.
      identity: userinfoUrl
        ? {
            source: "endpoint",
            url: userinfoUrl,
            id: "sub",
            email: "email",
            emailVerified: "email_verified",
            name: "name",
          }
        : undefined,
    } satisfies ProviderEntry;
  }
  const entry = Object.hasOwn(catalog, connector.provider) ? catalog[connector.provider] : undefined;
  if (!entry) throw fail("not_oauth_connector", "This connector does not use OAuth");
  return entry;
}

/** Resolves a connector's provider: endpoints filled, overridden and checked; scopes chosen. */
export function resolveProvider(connector: ConnectorConfig, options: CatalogOptions): ResolvedProvider {
  const base = providerEntry(connector, options.catalog);
  const { identityUrl, ...replaced } = options.overrides?.[connector.provider] ?? {};
  const entry = { ...base, ...replaced };
  const params = checkParams(entry, connector.params);
  const endpoint = (url: string | undefined, what: string) =>
    url === undefined
      ? undefined
      : checkEndpoint(fillTemplate(url, entry, params), options.allowLoopbackHttp, what);
  return {
    key: connector.provider,
    entry,
    authorizationUrl: endpoint(entry.authorizationUrl, "authorization URL") as string,
    tokenUrl: endpoint(entry.tokenUrl, "token URL") as string,
    refreshUrl: endpoint(entry.refreshUrl, "refresh URL"),
    revocationUrl: endpoint(entry.revocationUrl, "revocation URL"),
    issuer: entry.issuer === undefined ? undefined : fillTemplate(entry.issuer, entry, params),
    jwksUrl: endpoint(entry.jwksUrl, "JWKS URL"),
    sendsIss: entry.sendsIss === true,
    identityUrl:
      entry.identity?.source === "endpoint"
        ? endpoint(identityUrl ?? entry.identity.url, "identity URL")
        : undefined,
    pkce: entry.pkce !== false,
    scopes: connector.scopes?.length ? connector.scopes : entry.defaultScopes,
  };
}
