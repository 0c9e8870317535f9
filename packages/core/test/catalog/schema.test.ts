/**
 * The provider catalog checked against a schema written here, independently of the ProviderEntry
 * type: the type says what may be written, this says what a valid entry is.
 */
import { describe, expect, it } from "vitest";
import type { ProviderEntry } from "../../src/catalog.ts";
import { providers } from "../../src/providers.ts";

/** PipesHub's per-user OAuth connectors (issue #5). */
const EXPECTED_KEYS = [
  "google-workspace",
  "google-drive",
  "gmail",
  "google-calendar",
  "google-meet",
  "google-docs",
  "google-sheets",
  "google-forms",
  "google-slides",
  "outlook",
  "onedrive",
  "sharepoint",
  "teams",
  "confluence",
  "jira",
  "slack",
  "notion",
  "dropbox",
  "box",
  "github",
  "gitlab",
  "gitlab-self-managed",
  "linear",
  "salesforce",
  "salesforce-sandbox",
  "zoom",
  "servicenow",
  "snowflake",
  "zendesk",
  // Enterprise-search sources (issue 12).
  "google-chat",
  "confluence-data-center",
  "jira-data-center",
  "confluence-gov",
  "jira-gov",
  "hubspot",
  "asana",
  "clickup",
  "airtable",
  "monday",
  "figma",
  "intercom",
  "egnyte",
  "smartsheet",
  "webex",
  "discord",
  "bitbucket",
  "miro",
  "basecamp",
  "front",
  "gong",
  "wrike",
  "zoho-desk",
  "shortcut",
  "productboard",
  "help-scout",
];

const FIELDS = new Set([
  "name",
  "docs",
  "family",
  "authorizationUrl",
  "tokenUrl",
  "refreshUrl",
  "revocationUrl",
  "revocationStyle",
  "issuer",
  "sendsIss",
  "jwksUrl",
  "defaultScopes",
  "scopeParam",
  "scopeSeparator",
  "authorizationParams",
  "clientAuth",
  "tokenRequest",
  "tokenResponse",
  "pkce",
  "templates",
  "identity",
]);
const URL_FIELDS = [
  "authorizationUrl",
  "tokenUrl",
  "refreshUrl",
  "revocationUrl",
  "issuer",
  "jwksUrl",
] as const;
/** Set by the service on every authorization URL; an entry must not try to set them. */
const RESERVED = [
  "client_id",
  "redirect_uri",
  "response_type",
  "state",
  "code_challenge",
  "code_challenge_method",
];
const PLACEHOLDER_VALUES = new Set(["", "none", "null", "undefined", "nan"]);
/** Values no template may accept, whatever it describes. */
const HOSTILE_VALUES = [
  "",
  "evil.com/",
  "169.254.169.254#",
  "EVIL",
  "..",
  "%2F",
  "a/b",
  "a#b",
  "a?b",
  "a@b",
  "a:443",
  "a\\b",
  " a",
  "a\n",
  "-a",
  "a.",
  ".a",
  "ａｃｍｅ",
  "a".repeat(254),
];

type Problem = string;

function checkUrl(value: unknown, what: string, page = false): Problem[] {
  if (typeof value !== "string") return [`${what} is not a string`];
  const sample = value.replace(/\{(\w+)\}/g, "sample");
  let url: URL;
  try {
    url = new URL(sample);
  } catch {
    return [`${what} is not a URL`];
  }
  const problems: Problem[] = [];
  if (url.protocol !== "https:") problems.push(`${what} is not https`);
  if (url.username || url.password) problems.push(`${what} has credentials`);
  if (!page && (url.search || url.hash)) problems.push(`${what} has a query or fragment`);
  if (url.port) problems.push(`${what} names a port`);
  return problems;
}

/** `^a|b$` anchors each branch on one side only: a `|` outside every group and class. */
function hasTopLevelAlternation(pattern: string): boolean {
  let depth = 0;
  let inClass = false;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === "\\") i++;
    else if (inClass) inClass = c !== "]";
    else if (c === "[") inClass = true;
    else if (c === "(") depth++;
    else if (c === ")") depth--;
    else if (c === "|" && depth === 0) return true;
  }
  return false;
}

function checkTemplates(entry: ProviderEntry): Problem[] {
  const problems: Problem[] = [];
  const used = new Set(
    URL_FIELDS.flatMap((field) => [...(entry[field] ?? "").matchAll(/\{(\w+)\}/g)].map((m) => m[1])),
  );
  for (const name of used) {
    if (!name || !entry.templates?.[name]) problems.push(`{${name}} has no template`);
  }
  for (const [name, template] of Object.entries(entry.templates ?? {})) {
    if (!used.has(name)) problems.push(`template ${name} is used by no URL`);
    if (!/^[a-z][a-zA-Z]*$/.test(name)) problems.push(`template name ${name} is not camelCase`);
    if (!template.pattern.startsWith("^") || !template.pattern.endsWith("$")) {
      problems.push(`template ${name} pattern is not anchored`);
    }
    if (hasTopLevelAlternation(template.pattern))
      problems.push(`template ${name} alternation escapes its anchors`);
    const pattern = new RegExp(template.pattern);
    for (const value of HOSTILE_VALUES) {
      if (pattern.test(value)) problems.push(`template ${name} accepts ${JSON.stringify(value)}`);
    }
    if (template.default !== undefined && !pattern.test(template.default)) {
      problems.push(`template ${name} default does not match its pattern`);
    }
    if (!template.description) problems.push(`template ${name} has no description`);
    if (!template.example) problems.push(`template ${name} has no example`);
    for (const [alias, value] of Object.entries(template.aliases ?? {})) {
      if (!pattern.test(value)) problems.push(`template ${name} alias ${alias} names an invalid value`);
    }
    for (const domain of template.domains ?? []) {
      if (!/^(\.[a-z0-9-]+){2,}$/.test(domain))
        problems.push(`template ${name} domain ${domain} is not a .domain`);
      if (!pattern.test(`acme${domain}`) && !pattern.test(`login${domain}`))
        problems.push(`template ${name} refuses its own domain ${domain}`);
    }
  }
  return problems;
}

function checkScopes(entry: ProviderEntry): Problem[] {
  const problems: Problem[] = [];
  if (!Array.isArray(entry.defaultScopes)) return ["defaultScopes is not a list"];
  const separator = entry.scopeSeparator ?? " ";
  for (const scope of entry.defaultScopes) {
    if (typeof scope !== "string" || !scope || /[\s,]/.test(scope)) {
      problems.push(`scope ${JSON.stringify(scope)} is empty or holds a separator`);
    }
  }
  if (new Set(entry.defaultScopes).size !== entry.defaultScopes.length)
    problems.push("duplicate default scopes");
  if (![" ", ","].includes(separator)) problems.push("unknown scope separator");
  const scopeParam = entry.scopeParam ?? "scope";
  if (!/^[a-z_]+$/.test(scopeParam) || RESERVED.includes(scopeParam))
    problems.push("bad scope parameter name");
  return problems;
}

function checkAuthorizationParams(entry: ProviderEntry): Problem[] {
  const problems: Problem[] = [];
  for (const [name, value] of Object.entries(entry.authorizationParams ?? {})) {
    if (RESERVED.includes(name) || name === (entry.scopeParam ?? "scope"))
      problems.push(`sets reserved ${name}`);
    if (typeof value !== "string" || PLACEHOLDER_VALUES.has(value.trim().toLowerCase())) {
      problems.push(`authorization parameter ${name} has an empty or placeholder value`);
    }
  }
  return problems;
}

function checkTokenEndpoint(entry: ProviderEntry): Problem[] {
  const problems: Problem[] = [];
  if (
    entry.clientAuth !== undefined &&
    !["client_secret_post", "client_secret_basic"].includes(entry.clientAuth)
  ) {
    problems.push("unknown clientAuth");
  }
  const request = entry.tokenRequest ?? {};
  if (request.format !== undefined && !["form", "json"].includes(request.format))
    problems.push("unknown body format");
  for (const [name, value] of Object.entries(request.headers ?? {})) {
    if (!/^[A-Za-z][A-Za-z0-9-]*$/.test(name) || !value) problems.push(`bad token request header ${name}`);
    if (["authorization", "content-type"].includes(name.toLowerCase()))
      problems.push(`overrides header ${name}`);
  }
  const response = entry.tokenResponse ?? {};
  const path = /^[a-z_]+(\.[a-z_]+)*$/;
  if (response.tokenSetPath !== undefined && !path.test(response.tokenSetPath))
    problems.push("bad tokenSetPath");
  for (const [name, source] of Object.entries(response.metadata ?? {})) {
    if (!/^[a-z][a-zA-Z]*$/.test(name)) problems.push(`metadata name ${name} is not camelCase`);
    if (!path.test(source)) problems.push(`metadata ${name} path ${source} is not a dotted path`);
  }
  return problems;
}

function checkIssuerAndIdentity(entry: ProviderEntry): Problem[] {
  const problems: Problem[] = [];
  if (entry.sendsIss !== undefined && typeof entry.sendsIss !== "boolean")
    problems.push("sendsIss is not boolean");
  if (entry.sendsIss && !entry.issuer) problems.push("sendsIss without an issuer");
  if (entry.revocationStyle !== undefined) {
    if (!["rfc7009", "bearer", "field", "query"].includes(entry.revocationStyle))
      problems.push("unknown revocation style");
    if (!entry.revocationUrl) problems.push("revocation style without a revocation URL");
  }
  const identity = entry.identity;
  if (!identity) return problems;
  const path = /^[a-z0-9_]+(\.[a-z0-9_]+)*$/i;
  if (!["token_response", "endpoint", "id_token"].includes(identity.source))
    problems.push("unknown identity source");
  if (identity.source === "endpoint") problems.push(...checkUrl(identity.url, "identity url"));
  else if (identity.url !== undefined) problems.push("identity url outside the endpoint source");
  if (identity.source === "id_token" && (!entry.issuer || !entry.jwksUrl))
    problems.push("id_token identity without issuer and JWKS");
  for (const field of ["id", "email", "name"] as const) {
    const value = identity[field];
    if ((field === "id" || value !== undefined) && !(typeof value === "string" && path.test(value)))
      problems.push(`identity ${field} is not a dotted path`);
  }
  const verified = identity.emailVerified;
  if (verified !== undefined && verified !== true && !(typeof verified === "string" && path.test(verified)))
    problems.push("identity emailVerified is neither a path nor true");
  return problems;
}

/** Every problem with one entry; an empty list means the entry is valid. */
function validateEntry(key: string, entry: ProviderEntry): Problem[] {
  const problems: Problem[] = [];
  if (!/^[a-z0-9]+(-[a-z0-9]+)*$/.test(key) || key === "oauth2") problems.push("key is not kebab-case");
  for (const field of Object.keys(entry)) if (!FIELDS.has(field)) problems.push(`unknown field ${field}`);
  if (typeof entry.name !== "string" || !entry.name) problems.push("no name");
  problems.push(...checkUrl(entry.docs, "docs", true));
  if (entry.family !== undefined && !["google", "microsoft", "atlassian"].includes(entry.family)) {
    problems.push("unknown family");
  }
  for (const field of URL_FIELDS) {
    if (field === "authorizationUrl" || field === "tokenUrl" || entry[field] !== undefined) {
      problems.push(...checkUrl(entry[field], field));
    }
  }
  if (entry.pkce !== undefined && typeof entry.pkce !== "boolean") problems.push("pkce is not boolean");
  return [
    ...problems,
    ...checkTemplates(entry),
    ...checkScopes(entry),
    ...checkAuthorizationParams(entry),
    ...checkTokenEndpoint(entry),
    ...checkIssuerAndIdentity(entry),
  ];
}

describe("providers catalog", () => {
  it("has at least 50 entries", () => {
    expect(Object.keys(providers).length).toBeGreaterThanOrEqual(50);
  });

  it("lists exactly PipesHub's per-user OAuth connectors", () => {
    expect(Object.keys(providers).sort()).toEqual([...EXPECTED_KEYS].sort());
  });

  it.each(Object.entries(providers))("entry %s satisfies the schema", (key, entry) => {
    expect(validateEntry(key, entry)).toEqual([]);
  });

  it("gives every entry of a family the same endpoints", () => {
    const byFamily = new Map<string, Set<string>>();
    for (const entry of Object.values(providers)) {
      if (!entry.family) continue;
      const endpoints = byFamily.get(entry.family) ?? new Set();
      endpoints.add(`${entry.authorizationUrl} ${entry.tokenUrl} ${entry.issuer ?? ""}`);
      byFamily.set(entry.family, endpoints);
    }
    for (const endpoints of byFamily.values()) expect(endpoints.size).toBe(1);
  });
});

describe("schema", () => {
  const valid: ProviderEntry = {
    name: "Example",
    docs: "https://example.com/docs",
    authorizationUrl: "https://{tenant}.example.com/authorize",
    tokenUrl: "https://{tenant}.example.com/token",
    defaultScopes: ["read"],
    templates: { tenant: { pattern: "^[a-z0-9]{1,20}$", description: "tenant", example: "acme" } },
  };

  it("accepts a well-formed entry", () => {
    expect(validateEntry("example", valid)).toEqual([]);
  });

  it.each<[string, Partial<ProviderEntry> & Record<string, unknown>]>([
    ["http endpoint", { tokenUrl: "http://example.com/token" }],
    ["endpoint with a fragment", { authorizationUrl: "https://example.com/authorize#x" }],
    ["endpoint with credentials", { tokenUrl: "https://user:pw@example.com/token" }],
    ["placeholder without a template", { tokenUrl: "https://{region}.example.com/token" }],
    [
      "unanchored pattern",
      { templates: { tenant: { pattern: "[a-z0-9]+", description: "t", example: "a" } } },
    ],
    [
      "alternation outside the anchors",
      { templates: { tenant: { pattern: "^acme|[a-z]+$", description: "t", example: "a" } } },
    ],
    [
      "pattern accepting dots and slashes",
      { templates: { tenant: { pattern: "^.+$", description: "t", example: "a" } } },
    ],
    ["whitespace in a scope", { defaultScopes: ["read write"] }],
    ["reserved authorization parameter", { authorizationParams: { redirect_uri: "https://evil.com" } }],
    ["placeholder parameter value", { authorizationParams: { prompt: "None" } }],
    ["unknown client authentication", { clientAuth: "private_key_jwt" as "client_secret_post" }],
    ["misspelt field", { tokenURL: "https://example.com/token" }],
    ["snake_case metadata name", { tokenResponse: { metadata: { team_id: "team.id" } } }],
    ["docs missing", { docs: "" }],
    ["sendsIss without an issuer", { sendsIss: true }],
    [
      "alias naming an invalid value",
      {
        templates: {
          tenant: { pattern: "^[a-z0-9]{1,20}$", description: "t", example: "a", aliases: { x: "a.b" } },
        },
      },
    ],
    ["revocation style without an endpoint", { revocationStyle: "bearer" }],
    [
      "identity endpoint over http",
      { identity: { source: "endpoint", url: "http://example.com/me", id: "id" } },
    ],
    ["identity without an id path", { identity: { source: "token_response", id: "" } }],
  ])("refuses an entry with a %s", (_, change) => {
    expect(validateEntry("example", { ...valid, ...change } as ProviderEntry)).not.toEqual([]);
  });

  it("refuses a key that is not kebab-case", () => {
    expect(validateEntry("GoogleDrive", valid)).not.toEqual([]);
  });
});
