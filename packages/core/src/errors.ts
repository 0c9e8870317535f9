/**
 * The one error type of the service. `code` is a closed union: the HTTP status of each code is
 * assigned in exactly one table at the edge (functions/src/edge/http.ts), and the message is safe to
 * show (it never carries a token, a code, a secret or an exception text). `cause` is for the log only.
 */
export type ErrorCode =
  | "unauthorized"
  | "forbidden"
  | "connector_not_found"
  | "invalid_base_url"
  | "not_oauth_connector"
  | "oauth_not_configured"
  | "invalid_request"
  | "invalid_state"
  | "invalid_grant"
  | "account_mismatch"
  | "provider_error"
  | "dependency_unavailable"
  | "conflict"
  | "too_many_pending_flows"
  | "not_connected"
  | "needs_reauth"
  | "token_refresh_failed"
  | "route_not_found"
  | "method_not_allowed"
  | "internal_error";

/** Codes a callback can report to the app in `oauth_error=` (closed: provider text never passes through). */
export type CallbackErrorCode =
  | "access_denied"
  | "provider_error"
  | "token_exchange_failed"
  | "state_expired"
  | "iss_mismatch"
  | "account_mismatch"
  | "invalid_request"
  | "server_error";

export class ServiceError extends Error {
  override readonly name = "ServiceError";
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/** Builds a ServiceError; `cause` is kept for the log, never shown to a caller. */
export function fail(code: ErrorCode, message: string, cause?: unknown): ServiceError {
  return new ServiceError(code, message, cause === undefined ? undefined : { cause });
}

export function isServiceError(error: unknown, code?: ErrorCode): error is ServiceError {
  return error instanceof ServiceError && (code === undefined || error.code === code);
}

/** What may be logged about an error: its kind and message, never attached values such as
 * oauth4webapi's `parameters` or a response body (they can carry codes and tokens). */
export function describeError(error: unknown): Record<string, string> {
  if (!(error instanceof Error)) return { error: typeof error };
  const described: Record<string, string> = { name: error.name, reason: error.message };
  const { code, error: oauthError } = error as { code?: unknown; error?: unknown };
  if (typeof code === "string") described.code = code;
  // oauth4webapi's ResponseBodyError carries the provider's OAuth error code: log it when it looks like one.
  if (typeof oauthError === "string" && /^[\w.-]{1,64}$/.test(oauthError)) described.oauthError = oauthError;
  if (error.cause instanceof Error) described.cause = `${error.cause.name}: ${error.cause.message}`;
  return described;
}

/** The logging the core needs (Powertools' Logger fits it). */
export interface Log {
  info(message: string, details?: Record<string, unknown>): void;
  warn(message: string, details?: Record<string, unknown>): void;
  error(message: string, details?: Record<string, unknown>): void;
}
