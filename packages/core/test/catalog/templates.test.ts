/**
 * Templated URL parts (tenant, subdomain, instance, account, host): values that try to leave their
 * host are refused when the connector is saved, and again when it is resolved.
 */
import { describe, expect, it } from "vitest";
import { type CatalogOptions, checkParams, resolveProvider } from "../../src/catalog.ts";
import { parseDefinition } from "../../src/definitions.ts";
import { providers } from "../../src/providers.ts";
import type { ConnectorConfig } from "../../src/types.ts";
import { connector } from "../fixtures.ts";

const options: CatalogOptions = { catalog: providers, allowLoopbackHttp: false };

/** Tries that must fail for every template. */
const ESCAPES = [
  "evil.com/",
  "169.254.169.254#",
  "169.254.169.254",
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

/**
 * Each template: real values people paste (PROVIDERS.md) with the value stored for them, and the
 * host every endpoint must then be on.
 */
const templated: {
  key: string;
  name: string;
  valid: [string, string][];
  label: boolean;
  host: (stored: string) => string;
}[] = [
  {
    key: "servicenow",
    name: "instance",
    valid: [
      ["acme", "acme.service-now.com"],
      ["dev12345", "dev12345.service-now.com"],
      ["acme-prod", "acme-prod.service-now.com"],
      ["acme.service-now.com", "acme.service-now.com"],
      ["ACME.Service-Now.com", "acme.service-now.com"],
    ],
    label: true,
    host: (v) => v,
  },
  {
    key: "zendesk",
    name: "subdomain",
    valid: [
      ["acme", "acme.zendesk.com"],
      ["acme-support", "acme-support.zendesk.com"],
      ["Acme.zendesk.com", "acme.zendesk.com"],
    ],
    label: true,
    host: (v) => v,
  },
  {
    key: "snowflake",
    name: "account",
    valid: [
      ["myorg-myaccount", "myorg-myaccount.snowflakecomputing.com"],
      ["myorg-my_account", "myorg-my_account.snowflakecomputing.com"],
      ["MYORG-MYACCOUNT", "myorg-myaccount.snowflakecomputing.com"],
      ["xy12345", "xy12345.snowflakecomputing.com"],
      ["xy12345.us-east-1", "xy12345.us-east-1.snowflakecomputing.com"],
      ["xy12345.us-east-2.aws", "xy12345.us-east-2.aws.snowflakecomputing.com"],
      ["xy12345.us-central1.gcp", "xy12345.us-central1.gcp.snowflakecomputing.com"],
      ["xy12345.us-east-1.privatelink", "xy12345.us-east-1.privatelink.snowflakecomputing.com"],
      ["myorg-myaccount.privatelink", "myorg-myaccount.privatelink.snowflakecomputing.com"],
      ["xy12345.cn-north-1.aws.snowflakecomputing.cn", "xy12345.cn-north-1.aws.snowflakecomputing.cn"],
      ["MyOrg-MyAccount.snowflakecomputing.com", "myorg-myaccount.snowflakecomputing.com"],
    ],
    label: true,
    host: (v) => v,
  },
  {
    key: "teams",
    name: "tenant",
    valid: [
      ["common", "common"],
      ["organizations", "organizations"],
      ["consumers", "consumers"],
      ["8eaef023-2b34-4da1-9baa-8bc8c9d6a490", "8eaef023-2b34-4da1-9baa-8bc8c9d6a490"],
      ["8EAEF023-2B34-4DA1-9BAA-8BC8C9D6A490", "8eaef023-2b34-4da1-9baa-8bc8c9d6a490"],
      ["contoso.onmicrosoft.com", "contoso.onmicrosoft.com"],
      ["Contoso.OnMicrosoft.com", "contoso.onmicrosoft.com"],
      ["emea.research.corp.contoso.co.uk", "emea.research.corp.contoso.co.uk"],
    ],
    label: false,
    host: () => "login.microsoftonline.com",
  },
  {
    key: "teams",
    name: "cloud",
    valid: [
      ["global", "login.microsoftonline.com"],
      ["usgov", "login.microsoftonline.us"],
      ["China", "login.partner.microsoftonline.cn"],
      ["login.microsoftonline.us", "login.microsoftonline.us"],
    ],
    label: false,
    host: (v) => v,
  },
  {
    key: "salesforce",
    name: "host",
    valid: [
      ["login.salesforce.com", "login.salesforce.com"],
      ["acme", "acme.my.salesforce.com"],
      ["acme.my.salesforce.com", "acme.my.salesforce.com"],
      ["ACME.my.salesforce.com", "acme.my.salesforce.com"],
      ["acme--dev.sandbox.my.salesforce.com", "acme--dev.sandbox.my.salesforce.com"],
      ["acme--dev.sandbox", "acme--dev.sandbox.my.salesforce.com"],
    ],
    label: false,
    host: (v) => v,
  },
  {
    key: "gitlab-self-managed",
    name: "host",
    valid: [
      ["gitlab.acme.io", "gitlab.acme.io"],
      ["git.example.co.uk", "git.example.co.uk"],
    ],
    label: false,
    host: (v) => v,
  },
];

/** Per template: values that name another host (a tenant is a path segment, so any domain is fine). */
const EXTRA: Record<string, string[]> = {
  "teams.tenant": ["localhost"],
  "teams.cloud": ["evil.com", "login.microsoftonline.com.evil.com", "login.microsoftonline.de", "localhost"],
  "salesforce.host": [
    "evil.com",
    "evil.com.",
    "login.salesforce.com.evil.com",
    "acme.my.salesforce.com.evil.com",
  ],
  "gitlab-self-managed.host": ["localhost"],
};

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
  const extra = EXTRA[`${key}.${name}`] ?? [];
  const refusedHere = label ? [...ESCAPES, ...DOTTED] : [...ESCAPES, "a.b", "gitlab.acme.io:8443", ...extra];

  it.each(refusedHere)("refuses %j when the connector is saved", (value) => {
    expect(() => checkParams(entry, { [name]: value })).toThrow(refused);
    expect(() => parseDefinition(definition(key, { [name]: value }), options)).toThrow(refused);
  });

  it.each(refusedHere)("refuses %j when a stored connector is resolved", (value) => {
    expect(() => resolveProvider(withParams(key, { [name]: value }), options)).toThrow(refused);
  });

  it.each(valid)("accepts %j, stores %j and keeps every endpoint on the provider's host", (value, stored) => {
    expect(parseDefinition(definition(key, { [name]: value }), options).params).toEqual({ [name]: stored });
    for (const params of [{ [name]: value }, { [name]: stored }]) {
      const resolved = resolveProvider(withParams(key, params), options);
      const hosts = [resolved.authorizationUrl, resolved.tokenUrl, resolved.revocationUrl, resolved.issuer]
        .filter((url): url is string => url !== undefined)
        .map((url) => new URL(url));
      for (const url of hosts) expect(url.origin).toBe(`https://${host(stored)}`);
    }
  });
});

describe("messages for refused values", () => {
  it.each(templated)("names {$name} of $key with an example, never the pattern", ({ key, name }) => {
    const entry = providers[key];
    const template = entry?.templates?.[name];
    if (!entry || !template) throw new Error("no template");
    let message = "";
    try {
      checkParams(entry, { [name]: "evil.com/" });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toContain(`"${name}"`);
    expect(message).toContain(`for example "${template.example}"`);
    expect(message).not.toContain(template.pattern);
    expect(message).not.toMatch(/\^|\$|\(\?:|\[a-z/);
    expect(checkParams(entry, { [name]: template.example })).toBeTruthy();
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
      templates: { subdomain: { pattern: "^.*$", description: "too loose", example: "acme" } },
    };
    for (const value of ["evil.com/", "169.254.169.254#", "a@b", "..", "%2F", "ａｃｍｅ"]) {
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
