/**
 * Connectors: who may connect what, loading one, and what callers see of it.
 * The record's shape is in types.ts: configuration (client id, sealed client secret, scopes,
 * provider parameters), its status and, once authenticated, the sealed token set.
 */
import { fail } from "./errors.ts";
import type { Caller, ConnectorKey, ConnectorRecord } from "./types.ts";

const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;

/** True for ids safe to use in keys, URLs and the state (letters, digits, `.`, `_`, `:`, `-`). */
export function isValidId(value: unknown): value is string {
  return typeof value === "string" && ID_PATTERN.test(value);
}

/** Team connectors: org admins or the creator. Personal connectors: the creator only. */
export function assertCanConnect(caller: Caller, connector: ConnectorRecord): void {
  const isCreator = connector.createdBy === caller.userId;
  const allowed = connector.scope === "personal" ? isCreator : isCreator || caller.isAdmin;
  if (!allowed) throw fail("forbidden", "You are not allowed to connect this connector");
}

/** Reads a connector; connector_not_found when an id is invalid or unknown, so another org's connector
 * is indistinguishable from a missing one. */
export async function loadConnector(
  store: { get(orgId: string, connectorId: string): Promise<ConnectorRecord | undefined> },
  key: ConnectorKey,
): Promise<ConnectorRecord> {
  const valid = isValidId(key.orgId) && isValidId(key.connectorId);
  const connector = valid ? await store.get(key.orgId, key.connectorId) : undefined;
  if (!connector) throw fail("connector_not_found", "Connector not found");
  return connector;
}

/** The connector's configuration without its tokens, status and bookkeeping (a flow's snapshot). */
export function connectorConfig(connector: ConnectorRecord) {
  const {
    tokens: _t,
    status: _s,
    version: _v,
    createdAt: _c,
    updatedAt: _u,
    lastUpdatedBy: _l,
    ...config
  } = connector;
  return config;
}

/** The connector as shown to callers: PipesHub's field names plus ours, never a secret. */
export function publicConnector(connector: ConnectorRecord) {
  return {
    _id: connector.connectorId,
    orgId: connector.orgId,
    name: connector.name ?? connector.connectorId,
    provider: connector.provider,
    scope: connector.scope,
    isEnabled: connector.isEnabled ?? true,
    isAuthenticated: connector.status === "authenticated",
    status: connector.status,
    createdBy: connector.createdBy,
    lastUpdatedBy: connector.lastUpdatedBy,
    createdAt: connector.createdAt,
    updatedAt: connector.updatedAt,
    connectedAccount: connector.tokens?.connectedAccount,
    tokenExpiresAt: connector.tokens?.expiresAt,
    grantedScopes: connector.tokens?.scopes,
  };
}
