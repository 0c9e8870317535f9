/**
 * The JSON Schema of the connectors file (connectors.schema.json at the repository root), built
 * from the same catalog the definition parser checks against: provider keys, their parameter names
 * and examples come from `providers`, so the schema cannot list a provider or a parameter the parser
 * does not know. A test compares the committed file with this output and runs both on the same inputs.
 * Regenerate with `npx tsx packages/local/src/connectors-schema.ts > connectors.schema.json`.
 */
import { pathToFileURL } from "node:url";
import { CUSTOM_PROVIDER, MAX_VALUE_LENGTH, providers, SAFE_VALUE } from "@connector-oauth/core";

/** connectors.ts ID_PATTERN, as JSON Schema writes it. */
const ID = { type: "string", pattern: "^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$" };
const TEXT = { type: "string", minLength: 1 };
const URL_FIELD = {
  ...TEXT,
  format: "uri",
  description: "https (plain http only to a loopback host in local mode)",
};

const endpoints = {
  type: "object",
  description: "The custom provider's endpoints (provider oauth2 only).",
  properties: {
    authorizationUrl: { ...URL_FIELD, description: "Authorization endpoint (RFC 6749 section 3.1)" },
    tokenUrl: { ...URL_FIELD, description: "Token endpoint (RFC 6749 section 3.2)" },
    revocationUrl: { ...URL_FIELD, description: "Revocation endpoint (RFC 7009), used by disconnect" },
    issuer: {
      ...TEXT,
      description: "Issuer identifier; checked against `iss` in the authorization response (RFC 9207)",
    },
    pkce: { type: "boolean", description: "Send PKCE S256 (RFC 7636); default true" },
  },
  required: ["authorizationUrl", "tokenUrl"],
};

/**
 * What a parameter value may look like as typed: the characters a filled value may have, in any
 * case. The parser lowercases it, may complete a bare name to the provider's host and then checks
 * the provider's own pattern, with a message naming the parameter and an example; a schema cannot
 * express that completion, so it checks the shape and shows the example.
 */
const PARAM_VALUE = SAFE_VALUE.source.replaceAll("a-z", "A-Za-z");

/** Per provider with parameters: their names and example values, and the required ones. */
function parameterRules() {
  return Object.entries(providers)
    .filter(([, entry]) => entry.templates && Object.keys(entry.templates).length)
    .map(([key, entry]) => {
      const templates = Object.entries(entry.templates ?? {});
      const properties = Object.fromEntries(
        templates.map(([name, t]) => [
          name,
          {
            type: "string",
            pattern: PARAM_VALUE,
            maxLength: MAX_VALUE_LENGTH,
            description: t.description,
            examples: [t.example],
          },
        ]),
      );
      const required = templates.filter(([, t]) => t.default === undefined).map(([name]) => name);
      const params = {
        type: "object",
        properties,
        additionalProperties: false,
        ...(required.length && { required }),
      };
      return {
        if: { properties: { provider: { const: key } }, required: ["provider"] },
        // biome-ignore lint/suspicious/noThenProperty: JSON Schema's if/then keyword
        then: { properties: { params }, ...(required.length && { required: ["params"] }) },
      };
    });
}

/** Fields a PUT body may leave out: the API takes them from the request. */
const BODY_OPTIONAL = ["connectorId", "orgId", "createdBy"];

export function connectorsSchema() {
  const connector = {
    type: "object",
    additionalProperties: false,
    required: ["connectorId", "orgId", "provider", "scope", "createdBy", "clientId"],
    properties: {
      connectorId: { ...ID, description: "Unique within the org" },
      orgId: { ...ID, description: "The org the connector belongs to" },
      provider: {
        enum: [...Object.keys(providers), CUSTOM_PROVIDER],
        description: "A catalog key (docs/providers.md), or oauth2 with endpoints",
      },
      scope: {
        enum: ["team", "personal"],
        description: "team: org admins or the creator connect it; personal: the creator only",
      },
      createdBy: { ...ID, description: "User id of the creator" },
      name: { ...TEXT, description: "Shown to people; default the connector id" },
      clientId: { ...TEXT, description: "OAuth client id registered at the provider" },
      clientSecret: { ...TEXT, description: "OAuth client secret; sealed with KMS before it is stored" },
      scopes: {
        type: "array",
        items: { type: "string", pattern: "^\\S+$" },
        description: "Scopes to request; default the catalog's",
      },
      params: {
        type: "object",
        additionalProperties: { type: "string" },
        description: "Provider parameters (tenant, subdomain, ...)",
      },
      endpoints,
      redirectUri: { ...TEXT, description: "Overrides the callback URL sent as redirect_uri" },
      isEnabled: { type: "boolean", description: "Default true" },
    },
    allOf: [
      {
        if: { properties: { provider: { const: CUSTOM_PROVIDER } }, required: ["provider"] },
        // biome-ignore lint/suspicious/noThenProperty: JSON Schema's if/then keyword
        then: { required: ["endpoints"] },
        else: { not: { required: ["endpoints"] } },
      },
      ...parameterRules(),
    ],
  };
  const list = { type: "array", items: { $ref: "#/$defs/connector" } };
  // The body of PUT /connectors/{connectorId} (README "Connectors API"): one connector, whose id,
  // org and creator may be left out (they come from the path, the caller's org and the creator).
  const connectorBody = {
    ...connector,
    required: connector.required.filter((name) => !BODY_OPTIONAL.includes(name)),
    description:
      "The body of PUT /connectors/{connectorId}: connectorId, orgId and createdBy may be left out",
  };
  return {
    $schema: "https://json-schema.org/draft/2020-12/schema",
    $id: "https://github.com/connector-oauth/connector-oauth/connectors.schema.json",
    title: "connector-oauth connectors file",
    description:
      "Connector definitions for `npm start` (CONNECTORS_FILE) and `connector-oauth put`: an array, or an object with `$schema` and `connectors` so that editors find this schema.",
    oneOf: [
      list,
      {
        type: "object",
        additionalProperties: false,
        required: ["connectors"],
        properties: { $schema: { type: "string" }, connectors: list },
      },
    ],
    $defs: { connector, connectorBody },
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href)
  process.stdout.write(`${JSON.stringify(connectorsSchema(), null, 2)}\n`);
