/**
 * Templated URL parts (tenant, subdomain, instance, account, host): values that try to leave their
 * host are refused when the connector is saved, and again when it is resolved.
 */
import { describe, expect, it } from "vitest";
import { type CatalogOptions, checkParams, resolveProvider } from "../../src/catalog.ts";
import type { ConnectorConfig } from "../../src/connectors.ts";
import { parseDefinition } from "../../src/definitions.ts";
import { providers } from "../../src/providers.ts";
import { connector } from "../fixtures.ts";

const options: CatalogOptions = { catalog: providers, allowLoopbackHttp: false };

/** Tries that must fail for every template. */
const ESCAPES = [
  "evil.com/",
  "169.254.169.254#",
  "169.254.169.254",
  "EVIL",
  "Acme",
  "acme.EVIL.com",
  "..",
  "../..",
  "%2F",
  "acme%2F",
  "acme%2eevil.com",
  "",
  " ",
  "acme/",
  "acme#",
  "acme?x=1",
  "acme@evil.com",
  "evil.com\\@acme",
  "acme:8443",
  "acme\n",
  "acme\t",
  "-acme",
  "acme-",
  "acme.",
  ".acme",
  "a..b",
  "ａｃｍｅ",
  "xn--80ak6aa92e.com/",
  "a".repeat(254),
];
/** Dotted tries: refused where the value is one DNS label; legitimate where it is a whole host. */
const DOTTED = ["a.b", "acme.evil.com"];

const templated = [
  {
    key: "servicenow",
    name: "instance",
    valid: ["acme", "dev12345", "acme-prod"],
    label: true,
    host: (v: string) => `${v}.service-now.com`,
  },
  {
    key: "zendesk",
    name: "subdomain",
    valid: ["acme", "acme-support"],
    label: true,
    host: (v: string) => `${v}.zendesk.com`,
  },
  {
    key: "snowflake",
    name: "account",
    valid: [
      "myorg-myaccount",
      "xy12345",
      "xy12345.us-east-1",
      "xy12345.us-east-2.aws",
      "xy12345.us-central1.gcp",
    ],
    label: true,
    host: (v: string) => `${v}.snowflakecomputing.com`,
  },
  {
    key: "teams",
    name: "tenant",
    valid: [
      "common",
      "organizations",
      "consumers",
      "8eaef023-2b34-4da1-9baa-8bc8c9d6a490",
      "contoso.onmicrosoft.com",
    ],
    label: false,
    host: () => "login.microsoftonline.com",
  },
  {
    key: "gitlab-self-managed",
    name: "host",
    valid: ["gitlab.acme.io", "git.example.co.uk"],
    label: false,
    host: (v: string) => v,
  },
];

function definition(provider: string, params: unknown) {
  return { ...connector(provider), params };
}

function withParams(provider: string, params?: Record<string, string>): ConnectorConfig {
  return connector(provider, { params });
}

const refused = expect.objectContaining({ code: "invalid_request" });

describe.each(templated)("template $key {$name}", ({ key, name, valid, label, host }) => {
  const entry = providers[key];
  if (!entry) throw new Error(`no catalog entry ${key}`);
  const hostile = label ? [...ESCAPES, ...DOTTED] : [...ESCAPES, "a.b", "localhost", "gitlab.acme.io:8443"];

  it.each(hostile)("refuses %j when the connector is saved", (value) => {
    expect(() => checkParams(entry, { [name]: value })).toThrow(refused);
    expect(() => parseDefinition(definition(key, { [name]: value }), options)).toThrow(refused);
  });

  it.each(hostile)("refuses %j when a stored connector is resolved", (value) => {
    expect(() => resolveProvider(withParams(key, { [name]: value }), options)).toThrow(refused);
  });

  it.each(valid)("accepts %j and keeps every endpoint on the provider's host", (value) => {
    expect(parseDefinition(definition(key, { [name]: value }), options).params).toEqual({ [name]: value });
    const resolved = resolveProvider(withParams(key, { [name]: value }), options);
    const hosts = [resolved.authorizationUrl, resolved.tokenUrl, resolved.revocationUrl, resolved.issuer]
      .filter((url): url is string => url !== undefined)
      .map((url) => new URL(url));
    for (const url of hosts) expect(url.origin).toBe(`https://${host(value)}`);
  });
});

describe("provider parameters", () => {
  it("refuses a parameter the provider does not template", () => {
    expect(() => checkParams(providers.zendesk as never, { instance: "acme" })).toThrow(refused);
    expect(() => parseDefinition(definition("google-drive", { tenant: "common" }), options)).toThrow(refused);
  });

  it("refuses parameters that are not strings", () => {
    expect(() => parseDefinition(definition("zendesk", { subdomain: 42 }), options)).toThrow(refused);
    expect(() => parseDefinition(definition("zendesk", { subdomain: ["acme"] }), options)).toThrow(refused);
    expect(() => parseDefinition(definition("zendesk", ["acme"]), options)).toThrow(refused);
  });

  it("does not take inherited names for templates", () => {
    const params = JSON.parse('{"__proto__": "x", "constructor": "y"}') as Record<string, string>;
    expect(() => checkParams(providers.servicenow as never, params)).toThrow(refused);
  });

  it("refuses host-ending characters even under a pattern that would allow them", () => {
    const loose = {
      ...(providers.zendesk as NonNullable<typeof providers.zendesk>),
      templates: { subdomain: { pattern: "^.*$", description: "too loose" } },
    };
    for (const value of ["evil.com/", "169.254.169.254#", "a@b", "..", "%2F", "EVIL"]) {
      expect(() => checkParams(loose, { subdomain: value })).toThrow(refused);
      expect(() =>
        resolveProvider(withParams("loose", { subdomain: value }), { ...options, catalog: { loose } }),
      ).toThrow();
    }
  });

  it("reports a missing required parameter as not configured when resolving", () => {
    expect(() => resolveProvider(withParams("servicenow"), options)).toThrow(
      expect.objectContaining({ code: "oauth_not_configured" }),
    );
  });

  it("fills a templated issuer from the same validated value", () => {
    const resolved = resolveProvider(withParams("gitlab-self-managed", { host: "gitlab.acme.io" }), options);
    expect(resolved.issuer).toBe("https://gitlab.acme.io");
    expect(resolved.tokenUrl).toBe("https://gitlab.acme.io/oauth/token");
  });
});
