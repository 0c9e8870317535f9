/**
 * Ports: the small interfaces the core needs from the outside world. Each has one real
 * implementation in @connector-oauth/aws (KMS, DynamoDB); tests and local mode use those same
 * implementations against local services. Adapters throw ServiceError("dependency_unavailable")
 * when the service behind them fails, and never include secrets in messages.
 */

import type { Bytes } from "./encoding.ts";
import type {
  ConnectorConfig,
  ConnectorKey,
  ConnectorRecord,
  EncryptionContext,
  FlowOutcome,
  FlowRecord,
  StoredTokens,
} from "./types.ts";

/** HMAC-SHA-256 under a key that never leaves KMS (GenerateMac / VerifyMac). */
export interface StateMac {
  generate(message: Bytes): Promise<Bytes>;
  /** Resolves false for a wrong MAC; throws only when the service itself fails. */
  verify(message: Bytes, mac: Bytes): Promise<boolean>;
}

/** AES-256 data keys wrapped by a KMS key (GenerateDataKey / Decrypt), bound to a context. */
export interface DataKeys {
  generate(context: EncryptionContext): Promise<{ plaintext: Bytes; encrypted: Bytes }>;
  /** Throws ServiceError("internal_error") when the context or ciphertext does not match. */
  decrypt(encrypted: Bytes, context: EncryptionContext): Promise<Bytes>;
}

/** Result of trying to consume a flow: exactly one caller ever sees `consumed` for a nonce. */
export type ConsumeResult =
  | { status: "consumed"; flow: FlowRecord }
  | { status: "already"; flow: FlowRecord }
  | { status: "missing" };

/** Who may record a consumed flow's outcome: its holder; anyone once the connector holds tokens
 * from this flow; anyone once the holder's lease has expired (the holder died). */
export type FinishBy = { holder: string } | { tokensStored: true } | { leaseExpired: true };

/**
 * Flow records. Every conditional write carries an id of its own (an attempt, holder or finish
 * id) and, when its condition fails, reads the item back (consistent read) to recognise its own
 * earlier success: an SDK retry after a lost reply then succeeds instead of meeting itself.
 */
export interface FlowStore {
  /** Reserves one of the user's `maxPending` slots (a slot expires with the flow's state, so a lost
   * reply never leaks it for longer) and writes the new pending flow. Throws
   * ServiceError("too_many_pending_flows") when the user holds `maxPending` pending flows and
   * ServiceError("conflict") if the nonce exists. */
  create(flow: FlowRecord, limit: { maxPending: number; now: number }): Promise<void>;
  /** Atomically moves a pending flow to `exchanging` for `holder` (a fresh id per callback), under
   * a lease until `now + leaseMs`. */
  consume(nonce: string, holder: string, now: number, leaseMs: number): Promise<ConsumeResult>;
  /** Moves a flow `holder` consumed back to pending (its code was never sent); a failed condition
   * is no error. */
  release(flow: FlowRecord, holder: string): Promise<void>;
  /** Records the final outcome of an `exchanging` flow; resolves false when `by` may not (someone
   * else finished it, or the lease still runs). */
  finish(nonce: string, outcome: FlowOutcome, now: number, by: FinishBy): Promise<boolean>;
  /** Reads a flow (consistent read). */
  get(nonce: string): Promise<FlowRecord | undefined>;
}

export interface SaveTokensInput extends ConnectorKey {
  /** The client the tokens were issued to: the write fails if the connector's client changed. */
  clientId: string;
  tokens: StoredTokens;
  by: string;
  now: number;
  /** When set, the write also requires the stored version to equal it (optimistic concurrency). */
  expectedVersion?: number;
  /** The connect flow (nonce) the tokens come from, recorded so a later callback for that flow can
   * tell that its tokens were stored. */
  flow?: string;
}

/** The conditions and effects of one definition write. */
export interface DefinitionWrite {
  /** "absent": the connector must not exist yet; a number: its stored version must equal it;
   * omitted: create or update whatever is stored (seeding and tests). */
  expectedVersion?: number | "absent";
  /** Remove the stored token set and refresh token in the same write and mark the connector
   * not_connected (its configuration binding changed: the tokens can no longer be opened). */
  clearTokens?: boolean;
}

/** A page of one org's connectors in id order; `next` is the id to continue after, if any more. */
export interface ConnectorPage {
  records: ConnectorRecord[];
  next?: string;
}

export interface ConnectorStore {
  get(orgId: string, connectorId: string): Promise<ConnectorRecord | undefined>;
  list(orgId: string): Promise<ConnectorRecord[]>;
  /** At most `limit` connectors of the org whose ids sort after `after`. */
  listPage(orgId: string, page: { after?: string; limit: number }): Promise<ConnectorPage>;
  /** Creates a connector or updates its configuration, keeping tokens and status unless
   * `write.clearTokens`. Throws ServiceError("conflict") when `write.expectedVersion` does not hold
   * (not when an SDK retry meets this call's own earlier write). */
  saveDefinition(
    config: ConnectorConfig,
    by: string,
    now: number,
    write?: DefinitionWrite,
  ): Promise<ConnectorRecord>;
  /** Stores a new token set and marks the connector authenticated; keeps a stored refresh token
   * when the new set has none. Throws ServiceError("conflict") when the condition fails (not when
   * an SDK retry meets this call's own earlier write). */
  saveTokens(input: SaveTokensInput): Promise<ConnectorRecord>;
  /** Deletes a connector; resolves false when it did not exist. With `expectedVersion`, throws
   * ServiceError("conflict") when the stored version differs (a retry after a lost reply that finds
   * the connector gone resolves true). */
  delete(orgId: string, connectorId: string, expectedVersion?: number): Promise<boolean>;
  /** Marks the connector needs_reauth (its grant was rejected), keeping its tokens for inspection.
   * Resolves false when the stored version is no longer `expectedVersion` (someone else wrote). */
  markNeedsReauth(input: StatusChange & { expectedVersion: number }): Promise<boolean>;
  /** Removes the stored token set and refresh token and marks the connector disconnected, whatever
   * its version; resolves false when the connector does not exist. */
  clearTokens(input: StatusChange): Promise<boolean>;
  /** Every authenticated connector of every org, page by page (for the keep-alive job). */
  listAuthenticated(): AsyncIterable<ConnectorRecord>;
}

export interface StatusChange extends ConnectorKey {
  by: string;
  now: number;
}

/** Who holds a connector's refresh lease; `now` and `ttlMs` in milliseconds. */
export interface LeaseRequest extends ConnectorKey {
  owner: string;
  now: number;
  ttlMs: number;
}

/**
 * A short lease per connector, so one process at a time refreshes its tokens. Taking it is one
 * conditional write that succeeds only when no lease exists or the existing one has expired;
 * releasing it succeeds only for its owner, so a late holder never frees someone else's lease.
 */
export interface LeaseStore {
  /** Resolves true when `owner` now holds the lease until `now + ttlMs`; false when another does. */
  acquire(request: LeaseRequest): Promise<boolean>;
  /** Ends the lease if `owner` still holds it; does nothing otherwise. */
  release(lease: ConnectorKey & { owner: string }): Promise<void>;
}
