/**
 * The core's public surface: what the handlers (functions/), the AWS adapters' users, local mode,
 * the bench and the tests import. Named one by one, so that an export is a decision.
 */
export { type AuthSettings, callerVerifier, DEFAULT_MAX_TOKEN_AGE_SECONDS } from "./callers.ts";
export {
  type Catalog,
  CUSTOM_PROVIDER,
  checkEndpoint,
  MAX_VALUE_LENGTH,
  type ProviderOverrides,
  SAFE_VALUE,
} from "./catalog.ts";
export {
  type ConnectDeps,
  type ConnectSettings,
  type ConnectTiming,
  completeConnect,
  DEFAULT_CONNECT_TIMING,
  startConnect,
} from "./connect.ts";
export { connectorConfig, publicConnector } from "./connectors.ts";
export {
  type ConnectorDefinition,
  type DefinitionSave,
  defineConnectors,
  parseDefinition,
  saveDefinition,
} from "./definitions.ts";
export type { Bytes } from "./encoding.ts";
export { isLoopbackHost, LOOPBACK_HOSTS } from "./endpoint-safety.ts";
export { openField, sealFields } from "./envelope.ts";
export {
  type CallbackErrorCode,
  describeError,
  type ErrorCode,
  fail,
  isServiceError,
  type Log,
  ServiceError,
} from "./errors.ts";
export { DEFAULT_MAX_PENDING_FLOWS, FLOW_RETENTION_SECONDS } from "./flows.ts";
export { parseJsonText } from "./json-text.ts";
export { cachingDataKeys } from "./key-cache.ts";
export { assertAdmin, connectLegacy, type LegacyRequest, parseLegacyRequest } from "./legacy.ts";
export { DEFAULT_TIMING, type LifecycleDeps, type RefreshTiming } from "./lifecycle/context.ts";
export { DEFAULT_KEEP_ALIVE, keepAlive } from "./lifecycle/keep-alive.ts";
export { type AccessToken, createTokenAccess, type TokenAccess } from "./lifecycle/token-access.ts";
export {
  type ConnectorView,
  connectorView,
  DEFAULT_PAGE_SIZE,
  definitionOf,
  deleteConnector,
  getConnector,
  listConnectors,
  MAX_PAGE_SIZE,
  type ManageDeps,
  type Precondition,
  type PutResult,
  putConnector,
  RESERVED_CONNECTOR_IDS,
} from "./manage.ts";
export type {
  ConnectorPage,
  ConnectorStore,
  DataKeys,
  DefinitionWrite,
  FlowStore,
  LeaseStore,
  SaveTokensInput,
  StateMac,
} from "./ports.ts";
export { providers } from "./providers.ts";
export { issueState, STATE_LIFETIME_SECONDS } from "./state.ts";
export { openClientSecret, openTokenSet } from "./tokens.ts";
export type {
  Caller,
  ConnectorConfig,
  ConnectorRecord,
  EncryptionContext,
  FlowRecord,
  FlowStatus,
  Sealed,
  StoredTokens,
} from "./types.ts";
