/**
 * The one place provider token-endpoint quirks are applied, as an oauth4webapi `customFetch`:
 * request body format and headers (Notion: JSON + Notion-Version), form-encoded answers (GitHub),
 * HTTP 200 error bodies (Slack `ok: false`, GitHub `error`), nested user token sets (Slack
 * `authed_user`), plain HTTP Basic credentials (Notion, Zoom, Snowflake) and the metadata to keep (Slack team id, Salesforce instance URL, ...). The result is
 * a standard RFC 6749 response, with the kept metadata under METADATA_FIELD. An id_token is kept only
 * when the entry names an issuer: oauth4webapi validates its `iss` against it, and a provider with a
 * per-tenant issuer (Microsoft) would otherwise fail an exchange whose access token is fine.
 */
import type { ProviderEntry } from "./catalog.ts";

export const METADATA_FIELD = "x_connector_metadata";
/** Where the identity fields an entry reads from the token response are kept (identity.ts). */
export const IDENTITY_FIELD = "x_connector_identity";

type Fetch = (url: string, init: RequestInit & { headers: Record<string, string> }) => Promise<Response>;

/** The value at a dotted path (`authed_user.id`), or undefined. */
export function at(value: unknown, path: string): unknown {
  return path
    .split(".")
    .reduce<unknown>((node, key) => (node as Record<string, unknown> | undefined)?.[key], value);
}

/** Header names in lower case, as oauth4webapi passes them, so an entry's header replaces its own. */
function lowercaseKeys(headers: Record<string, string> = {}): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([name, value]) => [name.toLowerCase(), value]));
}

function formDecode(text: string): string {
  return decodeURIComponent(text.replaceAll("+", "%20"));
}

function utf8Base64(text: string): string {
  return btoa(Array.from(new TextEncoder().encode(text), (byte) => String.fromCharCode(byte)).join(""));
}

/**
 * oauth4webapi form-encodes Basic credentials (RFC 6749 section 2.3.1: `client-1` becomes
 * `client%2D1`). The providers that take Basic (Notion, Zoom, Snowflake) document plain
 * base64(client_id:client_secret) and do not decode it: their UUID or base64 client ids would not
 * match. So the credentials go as they are.
 */
function plainBasic(headers: Record<string, string>): Record<string, string> {
  const value = headers.authorization;
  if (!value?.startsWith("Basic ")) return headers;
  const [id = "", secret = ""] = atob(value.slice("Basic ".length)).split(":").map(formDecode);
  return { ...headers, authorization: `Basic ${utf8Base64(`${id}:${secret}`)}` };
}

/** Adds the entry's fixed body fields for this grant (code exchange or refresh); others unchanged. */
function withParams(entry: ProviderEntry, init: RequestInit & { headers: Record<string, string> }) {
  const { params, refreshParams } = entry.tokenRequest ?? {};
  if (!params && !refreshParams) return init;
  const form = new URLSearchParams(init.body as URLSearchParams | string);
  const grant = form.get("grant_type");
  const extra =
    grant === "authorization_code" ? params : grant === "refresh_token" ? refreshParams : undefined;
  for (const [name, value] of Object.entries(extra ?? {})) form.set(name, value);
  return { ...init, body: form.toString() };
}

function jsonRequest(init: RequestInit & { headers: Record<string, string> }) {
  const form = new URLSearchParams(init.body as URLSearchParams | string);
  const headers = { ...init.headers, "content-type": "application/json" };
  return { ...init, headers, body: JSON.stringify(Object.fromEntries(form)) };
}

async function readBody(response: Response): Promise<Record<string, unknown> | undefined> {
  const text = await response.text();
  try {
    const parsed: unknown = JSON.parse(text);
    return parsed && typeof parsed === "object" ? (parsed as Record<string, unknown>) : undefined;
  } catch {
    const form = new URLSearchParams(text);
    return form.has("access_token") || form.has("error") ? Object.fromEntries(form) : undefined;
  }
}

/** The metadata the entry asks to keep, read from the whole response (strings and numbers only). */
function keptMetadata(entry: ProviderEntry, body: Record<string, unknown>): Record<string, string> {
  const metadata: Record<string, string> = {};
  for (const [name, source] of Object.entries(entry.tokenResponse?.metadata ?? {})) {
    const value = at(body, source);
    if (typeof value === "string" || typeof value === "number") metadata[name] = String(value);
  }
  return metadata;
}

/**
 * True when an id_token names the entry's issuer without its scheme: Google documents id_tokens with
 * `iss` `accounts.google.com` as well as `https://accounts.google.com`. Such an id_token is dropped
 * rather than failing an exchange whose access token is fine; any other issuer is still refused by
 * oauth4webapi's check.
 */
function schemelessIssuer(issuer: string, idToken: unknown): boolean {
  if (typeof idToken !== "string" || !issuer.startsWith("https://")) return false;
  try {
    const payload = idToken.split(".")[1] ?? "";
    const claims: unknown = JSON.parse(atob(payload.replaceAll("-", "+").replaceAll("_", "/")));
    const iss = (claims as { iss?: unknown } | null)?.iss;
    return iss === issuer.slice("https://".length);
  } catch {
    return false;
  }
}

/** Only the values at the entry's identity paths (never a token), under the same paths. */
function identityFields(entry: ProviderEntry, body: Record<string, unknown>): Record<string, unknown> {
  const kept: Record<string, unknown> = {};
  const { id, email, emailVerified, name } = entry.identity ?? { id: "" };
  for (const path of [id, email, typeof emailVerified === "string" ? emailVerified : undefined, name]) {
    if (!path) continue;
    const keys = path.split(".");
    let node = kept;
    for (const key of keys.slice(0, -1)) {
      node[key] ??= {};
      node = node[key] as Record<string, unknown>;
    }
    node[keys.at(-1) as string] = at(body, path);
  }
  return kept;
}

/** Rewrites a provider's token response into a standard one (status, JSON, token set, metadata). */
export function normalizeTokenBody(entry: ProviderEntry, status: number, body: Record<string, unknown>) {
  const failed = body.ok === false || (typeof body.error === "string" && status < 400);
  if (failed || status >= 400) {
    return {
      status: Math.max(status, 400),
      body: { error: typeof body.error === "string" ? body.error : "provider_error" },
    };
  }
  const path = entry.tokenResponse?.tokenSetPath;
  const tokenSet = { ...((path ? at(body, path) : body) as Record<string, unknown> | undefined) };
  if (!entry.issuer || schemelessIssuer(entry.issuer, tokenSet.id_token)) delete tokenSet.id_token;
  // Older Linear apps list granted scopes as an array; RFC 6749 section 5.1 makes it one string.
  if (Array.isArray(tokenSet.scope))
    tokenSet.scope = tokenSet.scope.filter((s) => typeof s === "string").join(" ");
  const type = typeof tokenSet.token_type === "string" ? tokenSet.token_type.toLowerCase() : "";
  // Providers name their bearer tokens "user", "bot" or nothing; all are used as Bearer.
  tokenSet.token_type = type === "dpop" ? type : "bearer";
  tokenSet[METADATA_FIELD] = keptMetadata(entry, body);
  // identity source token_response: the whole raw response, so its paths read as the entry says.
  if (entry.identity?.source === "token_response") tokenSet[IDENTITY_FIELD] = identityFields(entry, body);
  return { status, body: tokenSet };
}

/** A customFetch applying the entry's token-endpoint quirks around `fetchImpl`. */
export function tokenEndpointFetch(entry: ProviderEntry, fetchImpl: typeof fetch = fetch): Fetch {
  return async (url, init) => {
    const withHeaders = {
      ...init,
      headers: { ...plainBasic(init.headers), ...lowercaseKeys(entry.tokenRequest?.headers) },
    };
    const withBody = withParams(entry, withHeaders);
    const request = entry.tokenRequest?.format === "json" ? jsonRequest(withBody) : withBody;
    const response = await fetchImpl(url, { ...request, redirect: "manual" });
    const body = await readBody(response);
    if (!body) return new Response(null, { status: response.status >= 400 ? response.status : 502 });
    const normalized = normalizeTokenBody(entry, response.status, body);
    return Response.json(normalized.body, { status: normalized.status });
  };
}
