/**
 * connectors.schema.json and the one definition parser agree: the committed file is what the
 * generator builds from the catalog, and on every input below both accept or both refuse.
 */
import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { definitionOf, parseDefinition, providers } from "@connector-oauth/core";
import { Ajv2020 } from "ajv/dist/2020.js";
import { describe, expect, it } from "vitest";
import { connectorsSchema } from "../src/connectors-schema.ts";

const FILE = resolve(import.meta.dirname, "../../../connectors.schema.json");
const base = { connectorId: "c1", orgId: "acme", scope: "team", createdBy: "alice", clientId: "id" };
const custom = {
  ...base,
  provider: "oauth2",
  endpoints: { authorizationUrl: "https://idp.example.com/a", tokenUrl: "https://idp.example.com/t" },
};

const inputs: [string, unknown][] = [
  ["a catalog connector", { ...base, provider: "google-drive", clientSecret: "s", scopes: ["a", "b"] }],
  ["a custom connector", custom],
  [
    "a custom connector with every endpoint field",
    {
      ...custom,
      endpoints: {
        ...custom.endpoints,
        issuer: "https://idp.example.com",
        revocationUrl: "https://idp.example.com/r",
        pkce: false,
      },
    },
  ],
  [
    "every optional field",
    { ...base, provider: "slack", name: "Slack", redirectUri: "https://x.example/cb", isEnabled: false },
  ],
  ["a parameter with a default left out", { ...base, provider: "outlook" }],
  ["a valid parameter", { ...base, provider: "zendesk", params: { subdomain: "acme" } }],
  ["a missing required parameter", { ...base, provider: "zendesk" }],
  [
    "a parameter not matching its pattern",
    { ...base, provider: "zendesk", params: { subdomain: "Acme Inc" } },
  ],
  ["an unknown parameter", { ...base, provider: "zendesk", params: { subdomain: "acme", region: "eu" } }],
  ["an unknown provider", { ...base, provider: "myspace" }],
  ["an unknown field", { ...base, provider: "slack", colour: "blue" }],
  ["a bad scope", { ...base, provider: "slack", scope: "everyone" }],
  ["a bad connector id", { ...base, provider: "slack", connectorId: "-x" }],
  ["a missing client id", { ...base, provider: "slack", clientId: undefined }],
  ["an empty name", { ...base, provider: "slack", name: "" }],
  ["a scope with a space", { ...base, provider: "slack", scopes: ["a b"] }],
  ["isEnabled not boolean", { ...base, provider: "slack", isEnabled: "yes" }],
  ["endpoints on a catalog provider", { ...base, provider: "slack", endpoints: custom.endpoints }],
  ["oauth2 without endpoints", { ...base, provider: "oauth2" }],
  ["oauth2 without a token URL", { ...custom, endpoints: { authorizationUrl: "https://idp.example.com/a" } }],
  ["pkce not boolean", { ...custom, endpoints: { ...custom.endpoints, pkce: "yes" } }],
  ["not an object", "drive"],
];

describe("connectors.schema.json", () => {
  it("is what the generator builds from the catalog", async () => {
    expect(JSON.parse(await readFile(FILE, "utf8"))).toEqual(connectorsSchema());
    const listed = connectorsSchema().$defs.connector.properties.provider.enum;
    expect(listed).toEqual([...Object.keys(providers), "oauth2"]);
  });

  it.each(inputs)("agrees with the parser on %s", (_, input) => {
    const validate = new Ajv2020({ strict: false }).compile(connectorsSchema());
    const byParser = (() => {
      try {
        parseDefinition(JSON.parse(JSON.stringify(input)), { catalog: providers, allowLoopbackHttp: false });
        return true;
      } catch {
        return false;
      }
    })();
    expect(validate([input])).toBe(byParser);
    expect(validate({ $schema: "./connectors.schema.json", connectors: [input] })).toBe(byParser);
  });

  // The connectors API's PUT body: the same definitions without the ids, which the API takes from
  // the path, the caller's org and the creator; $defs/connectorBody accepts exactly what it accepts.
  it.each(inputs)("describes the PUT body the API accepts, for %s without its ids", (_, input) => {
    const { $schema, $defs } = connectorsSchema();
    const validate = new Ajv2020({ strict: false }).compile({
      $schema,
      $defs,
      $ref: "#/$defs/connectorBody",
    });
    const body =
      input && typeof input === "object"
        ? Object.fromEntries(
            Object.entries(input).filter(([key]) => !["connectorId", "orgId", "createdBy"].includes(key)),
          )
        : input;
    const known = { connectorId: "c1", orgId: "acme", createdBy: "alice" };
    const byApi = (() => {
      try {
        definitionOf(JSON.parse(JSON.stringify(body)), known, {
          catalog: providers,
          allowLoopbackHttp: false,
        });
        return true;
      } catch {
        return false;
      }
    })();
    expect(validate(body)).toBe(byApi);
  });
});
