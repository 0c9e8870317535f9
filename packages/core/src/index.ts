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
export { type ConnectorDefinition, defineConnectors, parseDefinition } from "./definitions.ts";
export {
  type CallbackErrorCode,
  describeError,
  type ErrorCode,
  fail,
  isServiceError,
  type Log,
} from "./errors.ts";
export { DEFAULT_MAX_PENDING_FLOWS } from "./flows.ts";
export { parseJsonText } from "./json-text.ts";
export { cachingDataKeys } from "./key-cache.ts";
export { connectLegacy, exchangeLegacyCode, type LegacyRequest, parseLegacyRequest } from "./legacy.ts";
export type { RefreshTiming } from "./lifecycle/context.ts";
export { DEFAULT_KEEP_ALIVE, keepAlive } from "./lifecycle/keep-alive.ts";
export { type AccessToken, createTokenAccess, type TokenAccess } from "./lifecycle/token-access.ts";
export type { ConnectorStore } from "./ports.ts";
export { providers } from "./providers.ts";
export { issueState, STATE_LIFETIME_SECONDS } from "./state.ts";
export { openClientSecret, openTokenSet } from "./tokens.ts";
export type {
  Caller,
  ConnectorConfig,
  ConnectorRecord,
  FlowRecord,
  FlowStatus,
  StoredTokens,
} from "./types.ts";
