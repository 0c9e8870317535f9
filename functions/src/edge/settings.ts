/**
 * Stage configuration, read once at cold start and validated; a bad or missing setting stops the
 * function with a message naming it. Values come from the environment merged with SST links.
 */
import {
  type AuthSettings,
  type ConnectSettings,
  configError,
  DEFAULT_MAX_PENDING_FLOWS,
  DEFAULT_MAX_TOKEN_AGE_SECONDS,
  durationSetting,
  type Env,
  flagSetting,
  type ProviderOverrides,
  providerOverridesSetting,
  providers,
  requiredSetting,
} from "@connector-oauth/core";

/** What a function uses beyond the table: each deployed function is linked to only its part. */
export type Need = "stateKey" | "dataKey" | "connect" | "auth";
export const ALL_NEEDS: readonly Need[] = ["stateKey", "dataKey", "connect", "auth"];

/** Deadlines of the AWS calls and of the callback (see ConnectTiming, docs/reliability.md). */
export interface Timeouts {
  /** One AWS SDK attempt (connection and response), AWS_ATTEMPT_TIMEOUT_MS, default 2000. */
  awsAttemptMs: number;
  /** AWS SDK attempts per call, AWS_MAX_ATTEMPTS (the SDK's own setting), default 2. */
  awsMaxAttempts: number;
  /** The code exchange at the provider, TOKEN_EXCHANGE_TIMEOUT_MS, default 8000. */
  exchangeMs: number;
  /** The whole callback, CALLBACK_BUDGET_MS, default 13000 (the function timeout is 15 s). */
  budgetMs: number;
}

export interface Settings {
  tableName: string;
  timeouts: Timeouts;
  stateKeyId?: string;
  dataKeyId?: string;
  connect?: ConnectSettings;
  auth?: AuthSettings;
  allowLoopbackHttp: boolean;
  providerOverrides?: ProviderOverrides;
}

export const DEFAULT_SUCCESS_PATH = "/account/company-settings/settings/connector/{connectorId}";
export const DEFAULT_ERROR_PATH = "/connectors/oauth/callback";
const LOOPBACK = new Set(["127.0.0.1", "localhost", "[::1]"]);

/** An absolute http(s) URL; plain http only for loopback hosts. */
function webUrl(name: string, value: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return configError(name, `is not a URL: ${JSON.stringify(value)}`);
  }
  const secure = url.protocol === "https:" || (url.protocol === "http:" && LOOPBACK.has(url.hostname));
  if (!secure) configError(name, "must use https (plain http only for localhost)");
  if (url.username || url.password || url.search || url.hash)
    configError(name, "must not carry credentials, a query or a fragment");
  return url;
}

function origins(env: Env): string[] {
  const list = requiredSetting(env, "APP_ORIGINS")
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  for (const origin of list) {
    if (webUrl("APP_ORIGINS", origin).origin !== origin)
      configError("APP_ORIGINS", `entries must be exact origins (no path or trailing slash): ${origin}`);
  }
  return list;
}

function appPath(env: Env, name: string, fallback: string): string {
  const path = env[name]?.trim() || fallback;
  if (!path.startsWith("/") || path.startsWith("//") || path.includes("\\"))
    configError(name, "must be a path starting with a single /");
  return path;
}

function auth(env: Env): AuthSettings {
  const hs256Secret = env.AUTH_HS256_SECRET || undefined;
  const jwksUrl = env.AUTH_JWKS_URL || undefined;
  if (!hs256Secret === !jwksUrl) configError("AUTH_HS256_SECRET / AUTH_JWKS_URL", "exactly one must be set");
  if (hs256Secret && hs256Secret.length < 16)
    configError("AUTH_HS256_SECRET", "must be at least 16 characters");
  if (jwksUrl) webUrl("AUTH_JWKS_URL", jwksUrl);
  return {
    hs256Secret,
    jwksUrl,
    issuer: env.AUTH_ISSUER || undefined,
    audience: env.AUTH_AUDIENCE || undefined,
    maxTokenAgeSeconds: durationSetting(env, "AUTH_MAX_TOKEN_AGE", DEFAULT_MAX_TOKEN_AGE_SECONDS),
  };
}

/** A whole number setting of at least `min`, or `fallback` when unset. */
function countSetting(env: Env, name: string, fallback: number, min = 1): number {
  const raw = env[name]?.trim();
  if (!raw) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min) configError(name, `must be a whole number >= ${min}`);
  return value;
}

function timeouts(env: Env): Timeouts {
  return {
    awsAttemptMs: countSetting(env, "AWS_ATTEMPT_TIMEOUT_MS", 2_000, 50),
    awsMaxAttempts: countSetting(env, "AWS_MAX_ATTEMPTS", 2),
    exchangeMs: countSetting(env, "TOKEN_EXCHANGE_TIMEOUT_MS", 8_000, 100),
    budgetMs: countSetting(env, "CALLBACK_BUDGET_MS", 13_000, 100),
  };
}

function connect(env: Env): ConnectSettings {
  const apiUrl = webUrl("PUBLIC_API_URL", requiredSetting(env, "PUBLIC_API_URL")).href.replace(/\/+$/, "");
  return {
    appOrigins: origins(env),
    redirectUri: `${apiUrl}/connectors/oauth/callback`,
    successPath: appPath(env, "SUCCESS_PATH", DEFAULT_SUCCESS_PATH),
    errorPath: appPath(env, "ERROR_PATH", DEFAULT_ERROR_PATH),
    acceptRelayWithoutIss: flagSetting(env, "ACCEPT_RELAYED_CALLBACKS_WITHOUT_ISS"),
    maxPendingFlows: countSetting(env, "MAX_PENDING_FLOWS", DEFAULT_MAX_PENDING_FLOWS),
  };
}

/** Reads and validates the settings a function needs; throws an Error naming the first bad one. */
export function loadSettings(env: Env, needs: readonly Need[] = ALL_NEEDS): Settings {
  const allowLoopbackHttp = flagSetting(env, "ALLOW_LOOPBACK_HTTP");
  return {
    tableName: requiredSetting(env, "TABLE_NAME"),
    timeouts: timeouts(env),
    stateKeyId: needs.includes("stateKey") ? requiredSetting(env, "STATE_KEY_ID") : undefined,
    dataKeyId: needs.includes("dataKey") ? requiredSetting(env, "DATA_KEY_ID") : undefined,
    connect: needs.includes("connect") ? connect(env) : undefined,
    auth: needs.includes("auth") ? auth(env) : undefined,
    allowLoopbackHttp,
    providerOverrides: providerOverridesSetting(env, { catalog: providers, allowLoopbackHttp }),
  };
}
