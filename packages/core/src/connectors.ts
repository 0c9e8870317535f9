/**
 * Connectors: who may connect what, and the shape of a connector's stored record.
 * A record holds configuration (client id, sealed client secret, scopes, provider parameters),
 * its authentication status and, once connected, the sealed token set.
 */
import type { Sealed } from "./envelope.ts";
import { fail } from "./errors.ts";

export type ConnectorScope = "team" | "personal";
export type ConnectorStatus = "not_connected" | "authenticated" | "needs_reauth" | "disconnected";

/** Endpoints of a custom (`oauth2`) provider. */
export interface CustomEndpoints {
  authorizationUrl: string;
  tokenUrl: string;
  issuer?: string;
  revocationUrl?: string;
  pkce?: boolean;
  /** The provider sends `iss` on every authorization response (RFC 9207). */
  sendsIss?: boolean;
  /** OpenID Connect UserInfo endpoint: who consented is read there (sub, email, email_verified, name). */
  userinfoUrl?: string;
}

/** The provider account that consented (SPEC 2.2): identifiers only, never a secret. */
export interface ConnectedAccount {
  id: string;
  email?: string;
  emailVerified?: boolean;
  name?: string;
}

/** A connector's configuration: what an operator defines. The client secret is already sealed. */
export interface ConnectorConfig {
  connectorId: string;
  orgId: string;
  provider: string;
  scope: ConnectorScope;
  createdBy: string;
  name?: string;
  clientId: string;
  clientSecret?: Sealed;
  scopes?: string[];
  params?: Record<string, string>;
  endpoints?: CustomEndpoints;
  /** Redirect URI for the legacy Google code exchange (default `postmessage`). */
  redirectUri?: string;
  isEnabled?: boolean;
}

/** Tokens as stored: secrets sealed, the rest readable for callers that need it. */
export interface StoredTokens {
  access: Sealed;
  refresh?: Sealed;
  idToken?: Sealed;
  tokenType: string;
  /** Absolute UTC expiry of the access token (ISO 8601), when the provider said. */
  expiresAt?: string;
  scopes: string[];
  metadata: Record<string, string>;
  obtainedAt: string;
  /** Who consented, when the provider said (kept across refreshes). */
  connectedAccount?: ConnectedAccount;
}

export interface ConnectorRecord extends ConnectorConfig {
  status: ConnectorStatus;
  version: number;
  createdAt: string;
  updatedAt: string;
  lastUpdatedBy: string;
  tokens?: StoredTokens;
  /** The connect flow (nonce) whose tokens were stored last. */
  connectFlow?: string;
}

/** A token set ready to store: secrets sealed by the caller (see tokens.ts). */
export type NewTokenSet = StoredTokens;

/** The signed-in caller, from a verified JWT. */
export interface Caller {
  userId: string;
  orgId: string;
  email?: string;
  isAdmin: boolean;
}

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

/** Loads the caller's connector: another org's connector is indistinguishable from a missing one. */
export async function loadOwnConnector(
  store: { get(orgId: string, id: string): Promise<ConnectorRecord | undefined> },
  caller: Caller,
  connectorId: string,
): Promise<ConnectorRecord> {
  const connector = isValidId(connectorId) ? await store.get(caller.orgId, connectorId) : undefined;
  if (!connector) throw fail("connector_not_found", "Connector not found");
  return connector;
}

/** The connector as shown to callers: PipesHub's field names plus ours, never a secret. */
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
