/**
 * The HTTP edge shared by the route handlers: request/response shapes, the one table from error
 * codes to HTTP statuses, the JSON error body, the self-contained HTML page, security headers.
 */
import { describeError, type ErrorCode, fail, isServiceError, type Log } from "@connector-oauth/core";

export interface HttpRequest {
  method: string;
  path: string;
  pathParameters: Record<string, string | undefined>;
  query: URLSearchParams;
  /** Lower-case names. */
  headers: Record<string, string | undefined>;
  body?: string;
  /** The AWS principal that signed the request, as API Gateway's IAM authorizer verified it. */
  iamCaller?: { accountId: string; arn: string };
}

export interface HttpResponse {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
}

export const STATUS: Record<ErrorCode, number> = {
  unauthorized: 401,
  forbidden: 403,
  connector_not_found: 404,
  invalid_base_url: 400,
  not_oauth_connector: 400,
  oauth_not_configured: 400,
  invalid_request: 400,
  invalid_state: 400,
  invalid_grant: 400,
  account_mismatch: 400,
  provider_error: 502,
  dependency_unavailable: 503,
  conflict: 409,
  // The caller holds the maximum of pending (unfinished) connect flows; they expire with their state.
  too_many_pending_flows: 429,
  // A person must connect the connector (again); no retry helps.
  not_connected: 409,
  needs_reauth: 409,
  // The provider's token endpoint failed or was unreachable after the retries.
  token_refresh_failed: 502,
  // No route at this path; or a route at this path, but not for this method (with `Allow`).
  route_not_found: 404,
  method_not_allowed: 405,
  internal_error: 500,
};

/** Sent on every response: nothing here may be cached, sniffed or leak through a Referer. */
export const SECURITY_HEADERS = {
  "cache-control": "no-store",
  "referrer-policy": "no-referrer",
  "x-content-type-options": "nosniff",
};

export function json(statusCode: number, body: unknown): HttpResponse {
  return {
    statusCode,
    headers: { ...SECURITY_HEADERS, "content-type": "application/json; charset=utf-8" },
    body: JSON.stringify(body),
  };
}

/** The request body as JSON; invalid_request when it is missing or not JSON. */
export function parseBody(body: string | undefined): unknown {
  try {
    return JSON.parse(body ?? "");
  } catch {
    throw fail("invalid_request", "The body must be JSON");
  }
}

export function redirect(location: string): HttpResponse {
  return { statusCode: 302, headers: { ...SECURITY_HEADERS, location }, body: "" };
}

export function wantsJson(request: HttpRequest): boolean {
  return /\bapplication\/json\b/i.test(request.headers.accept ?? "");
}

/** The error as a code, status and safe message; unknown errors become a generic 500, logged. */
export function describeFailure(
  error: unknown,
  log: Log,
): { code: ErrorCode; status: number; message: string } {
  if (isServiceError(error) && error.code !== "internal_error") {
    if (STATUS[error.code] >= 500) log.error("request failed", describeError(error));
    return { code: error.code, status: STATUS[error.code], message: error.message };
  }
  log.error("request failed", describeError(error));
  return { code: "internal_error", status: 500, message: "Something went wrong. Try again later." };
}

export function errorJson(error: unknown, log: Log): HttpResponse {
  const { code, status, message } = describeFailure(error, log);
  return json(status, { success: false, error: { code, message } });
}

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** A small self-contained page (no external resources: CSP forbids them). */
export function htmlPage(statusCode: number, title: string, message: string, link: string): HttpResponse {
  const body = `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>${escapeHtml(title)}</title><style>body{font:16px/1.5 system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem;color:#222}h1{font-size:1.3rem}</style></head><body><h1>${escapeHtml(title)}</h1><p>${escapeHtml(message)}</p><p><a href="${escapeHtml(link)}">Back to the app</a></p></body></html>`;
  return {
    statusCode,
    headers: {
      ...SECURITY_HEADERS,
      "content-type": "text/html; charset=utf-8",
      "content-security-policy":
        "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    },
    body,
  };
}
