/**
 * The core's data: what is stored and passed between modules (connector records, token sets, flow
 * records, sealed values, encryption contexts). Types only, importing nothing but error codes, so
 * that connectors, envelope, flows and ports can all depend on it without depending on each other.
 */
import type { CallbackErrorCode } from "./errors.ts";

/** A value sealed by envelope.ts (its header comment gives the layout); `v` is ENVELOPE_VERSION. */
export interface Sealed {
  v: 2;
  edk: string;
  iv: string;
  ct: string;
}

/** What a data key protects; part of its KMS encryption context and of the AES-GCM AAD. */
export type SecretPurpose = "client-secret" | "tokens";

/** Binds a ciphertext to one org, one connector, one purpose and the connector's configuration. */
export interface EncryptionContext {
  orgId: string;
  connectorId: string;
  purpose: SecretPurpose;
  /** Digest of the security-relevant configuration (config-binding.ts). */
  config: string;
}

/**
 * Whose connector it is: the org's (`team`: admins or the creator connect it) or its creator's
 * (`personal`). Stored and sent as the connector's `scope` field (SPEC 5); unrelated to OAuth scopes.
 */
export type ConnectorOwnership = "team" | "personal";

/** A connector's status as stored and shown; `authenticated` means it holds tokens that work. */
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
  scope: ConnectorOwnership;
  createdBy: string;
  name?: string;
  clientId: string;
  clientSecret?: Sealed;
  /** OAuth scopes requested at authorize (not to be confused with `scope`). */
  scopes?: string[];
  params?: Record<string, string>;
  endpoints?: CustomEndpoints;
  /** Redirect URI for the legacy Google code exchange (default `postmessage`). */
  redirectUri?: string;
  isEnabled?: boolean;
}

/** A token set as stored, and as handed to the store: secrets sealed by the caller (tokens.ts), the
 * rest readable for callers that need it. */
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

/** The ids that name one connector. */
export interface ConnectorKey {
  orgId: string;
  connectorId: string;
}

/** The signed-in caller, from a verified JWT. */
export interface Caller {
  userId: string;
  orgId: string;
  email?: string;
  isAdmin: boolean;
}

export type FlowStatus = "pending" | "exchanging" | "succeeded" | "failed";

export interface FlowOutcome {
  status: "succeeded" | "failed";
  error?: CallbackErrorCode;
  /** Who consented (a replay's answer reads it from the connector: replayOutcome in connect.ts). */
  connectedAccount?: ConnectedAccount;
}

/** The server-side half of one pending authorization, keyed by the state's nonce (flows.ts). */
export interface FlowRecord {
  nonce: string;
  orgId: string;
  connectorId: string;
  userId: string;
  /** The initiator's email from the caller JWT at authorize (checked against the consenting account). */
  initiatorEmail?: string;
  provider: string;
  returnOrigin: string;
  /** Sealed PKCE verifier (sealed "" for providers without PKCE), bound to flowBinding(). */
  verifier?: string;
  connector: ConnectorConfig;
  status: FlowStatus;
  error?: CallbackErrorCode;
  /** Milliseconds since the epoch. */
  createdAt: number;
  expiresAt: number;
  consumedAt?: number;
  /** Who consumed the flow (a fresh id per consuming callback) and until when it may exchange:
   * after `leaseUntil` the holder is presumed dead (its function timed out or crashed). */
  holder?: string;
  leaseUntil?: number;
  finishedAt?: number;
}
