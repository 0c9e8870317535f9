/**
 * Managing connectors over the platform API (SPEC 2.4): who may create, see, change and delete a
 * connector, and what each answer shows. Definitions go through the same parser and the same save
 * as the operator CLI and the connectors file (definitions.ts); every change is one audit log line
 * (who, what, never a secret).
 *
 * Visibility: a caller sees the team connectors of their org and their own personal connectors;
 * anything else answers connector_not_found, exactly like a connector of another org. Changes: team
 * connectors by org admins, personal connectors by their creator only (a member creating one becomes
 * its creator).
 */
import type { CatalogOptions } from "./catalog.ts";
import { isValidId, loadConnector, publicConnector } from "./connectors.ts";
import { type ConnectorDefinition, parseDefinition, saveDefinition } from "./definitions.ts";
import { fromBase64Url, fromUtf8, toBase64Url, utf8 } from "./encoding.ts";
import { fail, type Log } from "./errors.ts";
import type { LifecycleDeps } from "./lifecycle/context.ts";
import { type DisconnectResult, disconnectConnector } from "./lifecycle/disconnect.ts";
import type { ConnectorStore, DataKeys } from "./ports.ts";
import type { Caller, ConnectorRecord } from "./types.ts";

/** Path segments under /connectors that are routes of their own, so never connector ids. */
export const RESERVED_CONNECTOR_IDS: readonly string[] = ["oauth", "getTokenFromCode"];

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 100;

export interface ManageDeps {
  connectors: ConnectorStore;
  dataKeys: DataKeys;
  catalog: CatalogOptions;
  now: () => number;
  log: Log;
}

/** A connector as the platform API shows it: status, account, token expiry and its definition;
 * `hasClientSecret` instead of the (sealed) secret. */
export function connectorView(record: ConnectorRecord) {
  return {
    ...publicConnector(record),
    connectorId: record.connectorId,
    version: record.version,
    clientId: record.clientId,
    hasClientSecret: record.clientSecret !== undefined,
    scopes: record.scopes,
    params: record.params,
    endpoints: record.endpoints,
    redirectUri: record.redirectUri,
  };
}

export type ConnectorView = ReturnType<typeof connectorView>;

/** `If-Match`: a version, or "*" (the connector must exist). */
export type Precondition = number | "*";

function isVisible(caller: Caller, record: ConnectorRecord): boolean {
  return record.scope === "team" || record.createdBy === caller.userId;
}

function assertCanChange(caller: Caller, record: { scope: string; createdBy: string }): void {
  if (record.scope === "team" && !caller.isAdmin) {
    throw fail("forbidden", "Only org admins may change team connectors");
  }
  if (record.scope === "personal" && record.createdBy !== caller.userId) {
    throw fail("forbidden", "Only its creator may change a personal connector");
  }
}

function assertConnectorId(connectorId: string): void {
  if (!isValidId(connectorId)) {
    throw fail("invalid_request", '"connectorId" must match [A-Za-z0-9][A-Za-z0-9._:-]{0,127}');
  }
  if (RESERVED_CONNECTOR_IDS.includes(connectorId)) {
    throw fail("invalid_request", `"connectorId" ${JSON.stringify(connectorId)} is reserved`);
  }
}

/** The stored version must be `expected` (or exist, for "*"); conflict otherwise. */
function checkPrecondition(record: ConnectorRecord | undefined, expected: Precondition | undefined): void {
  if (expected === undefined) return;
  if (!record) throw fail("conflict", "If-Match was given, but the connector does not exist");
  if (expected !== "*" && record.version !== expected) {
    throw fail("conflict", `The connector is at version ${record.version}, not ${expected}; read it again`);
  }
}

/**
 * The definition the caller sent, completed from the request: the id from the path, the org from the
 * caller, the creator kept (or the caller, for a new connector). The body may repeat these fields
 * (a connectors-file entry as is), but never contradict them.
 */
export function definitionOf(
  body: unknown,
  known: { connectorId: string; orgId: string; createdBy: string },
  catalog: CatalogOptions,
): ConnectorDefinition {
  if (!body || typeof body !== "object" || Array.isArray(body)) {
    throw fail("invalid_request", "The body must be a JSON object: one connector definition");
  }
  const given = body as Record<string, unknown>;
  for (const [field, value] of Object.entries(known)) {
    if (given[field] !== undefined && given[field] !== value) {
      throw fail("invalid_request", `"${field}" must be ${JSON.stringify(value)} (or left out)`);
    }
  }
  return parseDefinition({ ...given, ...known }, catalog);
}

export interface PutResult {
  connector: ConnectorView;
  created: boolean;
  /** The change re-pointed a connected connector: its tokens are gone, it must be connected again. */
  tokensRemoved: boolean;
}

/** PUT /connectors/{connectorId}: creates or updates a connector of the caller's org. */
export async function putConnector(
  deps: ManageDeps,
  caller: Caller,
  request: { connectorId: string; body: unknown; ifMatch?: Precondition },
): Promise<PutResult> {
  assertConnectorId(request.connectorId);
  const existing = await deps.connectors.get(caller.orgId, request.connectorId);
  if (existing) assertCanChange(caller, existing);
  checkPrecondition(existing, request.ifMatch);
  const known = {
    connectorId: request.connectorId,
    orgId: caller.orgId,
    createdBy: existing?.createdBy ?? caller.userId,
  };
  const definition = definitionOf(request.body, known, deps.catalog);
  assertCanChange(caller, definition);
  const saved = await saveDefinition(deps, {
    definition,
    existing,
    expectedVersion: typeof request.ifMatch === "number" ? request.ifMatch : undefined,
    by: caller.userId,
    now: deps.now(),
  });
  deps.log.info("connector saved", {
    audit: existing ? "connector.updated" : "connector.created",
    orgId: caller.orgId,
    connectorId: request.connectorId,
    by: caller.userId,
    scope: saved.scope,
    provider: saved.provider,
    version: saved.version,
    fields: Object.keys(definition).filter((k) => definition[k as keyof ConnectorDefinition] !== undefined),
    clientSecretChanged: definition.clientSecret !== undefined,
    tokensRemoved: saved.tokensRemoved,
  });
  return { connector: connectorView(saved), created: !existing, tokensRemoved: saved.tokensRemoved };
}

/** GET /connectors/{connectorId}: a connector the caller may see. */
export async function getConnector(
  deps: Pick<ManageDeps, "connectors">,
  caller: Caller,
  connectorId: string,
): Promise<ConnectorView> {
  const record = await loadConnector(deps.connectors, { orgId: caller.orgId, connectorId });
  if (!isVisible(caller, record)) throw fail("connector_not_found", "Connector not found");
  return connectorView(record);
}

/** Opaque page cursors: the last id shown, base64url. */
const encodeCursor = (connectorId: string) => toBase64Url(utf8(connectorId));

function decodeCursor(cursor: string | undefined): string | undefined {
  if (cursor === undefined) return undefined;
  let id = "";
  try {
    id = fromUtf8(fromBase64Url(cursor));
  } catch {
    // Not base64url: refused below.
  }
  if (!isValidId(id) || encodeCursor(id) !== cursor) throw fail("invalid_request", '"cursor" is not valid');
  return id;
}

function pageSize(limit: string | undefined): number {
  if (limit === undefined) return DEFAULT_PAGE_SIZE;
  const n = Number(limit);
  if (!/^\d+$/.test(limit) || n < 1 || n > MAX_PAGE_SIZE) {
    throw fail("invalid_request", `"limit" must be a whole number from 1 to ${MAX_PAGE_SIZE}`);
  }
  return n;
}

/**
 * GET /connectors: the team connectors of the caller's org and the caller's personal ones, in id
 * order, `limit` at a time; `nextCursor` continues after the last one shown.
 */
export async function listConnectors(
  deps: Pick<ManageDeps, "connectors">,
  caller: Caller,
  query: { limit?: string; cursor?: string },
): Promise<{ connectors: ConnectorView[]; nextCursor?: string }> {
  const limit = pageSize(query.limit);
  let after = decodeCursor(query.cursor);
  const shown: ConnectorView[] = [];
  for (;;) {
    // One more than a page: a next cursor is given only when another visible connector exists.
    const page = await deps.connectors.listPage(caller.orgId, { after, limit: limit + 1 });
    for (const record of page.records) {
      if (!isVisible(caller, record)) continue;
      const last = shown.at(-1);
      if (last && shown.length === limit)
        return { connectors: shown, nextCursor: encodeCursor(last.connectorId) };
      shown.push(connectorView(record));
    }
    if (page.next === undefined) return { connectors: shown };
    after = page.next;
  }
}

/**
 * DELETE /connectors/{connectorId}: revokes the grant at the provider where the catalog can, removes
 * the tokens (disconnect), then deletes the definition. A failure after the tokens are gone leaves a
 * disconnected connector that the same DELETE removes on a retry.
 */
export async function deleteConnector(
  deps: LifecycleDeps,
  caller: Caller,
  request: { connectorId: string; ifMatch?: Precondition },
): Promise<DisconnectResult> {
  const key = { orgId: caller.orgId, connectorId: request.connectorId };
  const record = await loadConnector(deps.connectors, key);
  if (!isVisible(caller, record)) throw fail("connector_not_found", "Connector not found");
  assertCanChange(caller, record);
  checkPrecondition(record, request.ifMatch);
  const holdsTokens = record.tokens !== undefined || record.status === "authenticated";
  const { revocation } = holdsTokens
    ? await disconnectConnector(deps, key, caller.userId)
    : { revocation: "no_tokens" as const };
  // After a disconnect the version moved on: the caller's precondition was checked before it.
  const expected = holdsTokens ? undefined : record.version;
  await deps.connectors.delete(key.orgId, key.connectorId, expected);
  deps.log.info("connector deleted", {
    audit: "connector.deleted",
    ...key,
    by: caller.userId,
    provider: record.provider,
    revocation,
  });
  return { ...key, revocation };
}
