/**
 * Connector definitions (SPEC section 5 file format): validated as a whole before anything is
 * written, client secrets sealed before they reach storage.
 */
import {
  type CatalogOptions,
  CUSTOM_PROVIDER,
  checkEndpoint,
  checkParams,
  providerEntry,
} from "./catalog.ts";
import { sameBinding } from "./config-binding.ts";
import { isValidId } from "./connectors.ts";
import { fail, isServiceError } from "./errors.ts";
import type { ConnectorStore, DataKeys } from "./ports.ts";
import { sealClientSecret } from "./tokens.ts";
import type { ConnectorConfig, ConnectorRecord, CustomEndpoints } from "./types.ts";

/** A definition as written in a connectors file, client secret in plaintext. */
export interface ConnectorDefinition extends Omit<ConnectorConfig, "clientSecret"> {
  clientSecret?: string;
}

const FIELDS = new Set([
  "connectorId",
  "orgId",
  "provider",
  "scope",
  "createdBy",
  "name",
  "clientId",
  "clientSecret",
  "scopes",
  "params",
  "endpoints",
  "redirectUri",
  "isEnabled",
]);

const ENDPOINT_FIELDS = new Set([
  "authorizationUrl",
  "tokenUrl",
  "issuer",
  "revocationUrl",
  "userinfoUrl",
  "pkce",
  "sendsIss",
]);

function text(
  input: Record<string, unknown>,
  name: string,
  where: string,
  optional = false,
): string | undefined {
  const value = input[name];
  if (value === undefined && optional) return undefined;
  if (typeof value !== "string" || !value)
    throw fail("invalid_request", `${where}: "${name}" must be a non-empty string`);
  return value;
}

function stringList(value: unknown, where: string): string[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || !value.every((s) => typeof s === "string" && s && !/\s/.test(s))) {
    throw fail("invalid_request", `${where}: "scopes" must be a list of scope strings`);
  }
  return value;
}

function endpoints(value: unknown, where: string, allowLoopbackHttp: boolean): CustomEndpoints {
  const e = (value ?? {}) as Record<string, unknown>;
  const url = (name: string, optional = false) => {
    const v = text(e, name, `${where} endpoints`, optional);
    return v === undefined
      ? undefined
      : asDefinitionError(where, () => checkEndpoint(v, allowLoopbackHttp, name));
  };
  for (const flag of ["pkce", "sendsIss"]) {
    if (e[flag] !== undefined && typeof e[flag] !== "boolean")
      throw fail("invalid_request", `${where}: ${flag} must be boolean`);
  }
  const unknown = Object.keys(e).filter((key) => !ENDPOINT_FIELDS.has(key));
  if (unknown.length)
    throw fail("invalid_request", `${where}: unknown endpoint field(s) ${unknown.join(", ")}`);
  return {
    authorizationUrl: url("authorizationUrl") as string,
    tokenUrl: url("tokenUrl") as string,
    issuer: text(e, "issuer", `${where} endpoints`, true),
    revocationUrl: url("revocationUrl", true),
    userinfoUrl: url("userinfoUrl", true),
    pkce: e.pkce as boolean | undefined,
    sendsIss: e.sendsIss as boolean | undefined,
  };
}

/** A catalog refusal (unknown provider, unsafe endpoint) is a bad definition: invalid_request, named. */
function asDefinitionError<T>(where: string, check: () => T): T {
  try {
    return check();
  } catch (error) {
    if (isServiceError(error) && error.code !== "invalid_request") {
      throw fail("invalid_request", `${where}: ${error.message}`);
    }
    throw error;
  }
}

/** Validates one definition; throws invalid_request naming the connector and the bad field. */
export function parseDefinition(input: unknown, catalog: CatalogOptions): ConnectorDefinition {
  if (!input || typeof input !== "object" || Array.isArray(input))
    throw fail("invalid_request", "A connector must be an object");
  const d = input as Record<string, unknown>;
  const where = `connector ${typeof d.connectorId === "string" ? JSON.stringify(d.connectorId) : "(no id)"}`;
  const unknown = Object.keys(d).filter((key) => !FIELDS.has(key));
  if (unknown.length) throw fail("invalid_request", `${where}: unknown field(s) ${unknown.join(", ")}`);
  for (const id of ["connectorId", "orgId", "createdBy"]) {
    if (!isValidId(d[id]))
      throw fail("invalid_request", `${where}: "${id}" must match [A-Za-z0-9][A-Za-z0-9._:-]{0,127}`);
  }
  if (d.scope !== "team" && d.scope !== "personal")
    throw fail("invalid_request", `${where}: "scope" must be team or personal`);
  const provider = text(d, "provider", where) as string;
  const custom =
    provider === CUSTOM_PROVIDER ? endpoints(d.endpoints, where, catalog.allowLoopbackHttp) : undefined;
  if (!custom && d.endpoints !== undefined)
    throw fail("invalid_request", `${where}: only oauth2 connectors take endpoints`);
  if (provider !== CUSTOM_PROVIDER && !Object.hasOwn(catalog.catalog, provider)) {
    throw fail(
      "invalid_request",
      `${where}: "provider" ${JSON.stringify(provider)} is not in the catalog (use "oauth2" with endpoints for another provider)`,
    );
  }
  const entry = asDefinitionError(where, () =>
    providerEntry({ provider, endpoints: custom }, catalog.catalog),
  );
  const params = d.params === undefined ? undefined : checkParams(entry, d.params as Record<string, string>);
  for (const [name, template] of Object.entries(entry.templates ?? {})) {
    if (template.default === undefined && params?.[name] === undefined) {
      throw fail(
        "invalid_request",
        `${where}: provider parameter "${name}" is required (${template.description})`,
      );
    }
  }
  if (d.isEnabled !== undefined && typeof d.isEnabled !== "boolean")
    throw fail("invalid_request", `${where}: isEnabled must be boolean`);
  return {
    connectorId: d.connectorId as string,
    orgId: d.orgId as string,
    createdBy: d.createdBy as string,
    provider,
    scope: d.scope,
    name: text(d, "name", where, true),
    clientId: text(d, "clientId", where) as string,
    clientSecret: text(d, "clientSecret", where, true),
    scopes: stringList(d.scopes, where),
    params,
    endpoints: custom,
    redirectUri: text(d, "redirectUri", where, true),
    isEnabled: d.isEnabled as boolean | undefined,
  };
}

/** Validates every definition first, then seals each client secret and saves each connector. */
export async function defineConnectors(
  deps: { connectors: ConnectorStore; dataKeys: DataKeys; catalog: CatalogOptions },
  input: unknown,
  by: string,
  now: number,
) {
  if (!Array.isArray(input)) throw fail("invalid_request", "The connectors file must hold a JSON array");
  const definitions = input.map((item) => parseDefinition(item, deps.catalog));
  const saved = [];
  for (const definition of definitions) {
    const existing = await deps.connectors.get(definition.orgId, definition.connectorId);
    saved.push(await saveDefinition(deps, { definition, existing, by, now }));
  }
  return saved;
}

export interface DefinitionSave {
  definition: ConnectorDefinition;
  /** The stored connector as read before this save (undefined: none). */
  existing: ConnectorRecord | undefined;
  /** The version the writer last saw (If-Match); the write fails with conflict unless it still holds.
   * Default: the version of `existing`, so a change made since that read is never overwritten. */
  expectedVersion?: number;
  by: string;
  now: number;
}

/**
 * Seals the definition's client secret and saves it in one conditional write. When the definition
 * changes where the connector's secrets are sent (provider, client id, template parameters,
 * endpoints: the configuration digest), the stored tokens were sealed for the old configuration and
 * can no longer be opened, so the same write removes them and marks the connector `not_connected`;
 * a stored client secret sealed for the old configuration must be given again. `tokensRemoved` on
 * the result tells the caller (the CLI prints it, the API answers it).
 */
export async function saveDefinition(
  deps: { connectors: ConnectorStore; dataKeys: DataKeys },
  { definition, existing, expectedVersion, by, now }: DefinitionSave,
): Promise<ConnectorRecord & { tokensRemoved: boolean }> {
  const { clientSecret, ...config } = definition;
  const rebound = existing !== undefined && !(await sameBinding(existing, config));
  if (rebound && existing.clientSecret && clientSecret === undefined) {
    throw fail(
      "invalid_request",
      `connector ${JSON.stringify(config.connectorId)}: changing its provider, client id, parameters or endpoints needs its client secret again`,
    );
  }
  const sealed =
    clientSecret === undefined ? undefined : await sealClientSecret(deps.dataKeys, config, clientSecret);
  const tokensRemoved = rebound && (existing.tokens !== undefined || existing.status === "authenticated");
  const saved = await deps.connectors.saveDefinition({ ...config, clientSecret: sealed }, by, now, {
    expectedVersion: expectedVersion ?? existing?.version ?? "absent",
    clearTokens: tokensRemoved,
  });
  return { ...saved, tokensRemoved };
}
