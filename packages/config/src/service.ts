/**
 * The deployed functions' settings: read once at cold start from the environment merged with SST
 * links, validated, and handed to the composition root as values. A function is linked only to what
 * it uses (`Need`), so only those settings are required.
 */
import {
  type AuthSettings,
  type ConnectSettings,
  DEFAULT_MAX_PENDING_FLOWS,
  DEFAULT_MAX_TOKEN_AGE_SECONDS,
  type ProviderOverrides,
  providers,
} from "@connector-oauth/core";
import { DEFAULT_ERROR_PATH, DEFAULT_SUCCESS_PATH } from "./constants.ts";
import {
  configError,
  countSetting,
  durationSetting,
  type Env,
  flagSetting,
  optionalSetting,
  originsSetting,
  pathSetting,
  providerOverridesSetting,
  requiredSetting,
  webUrl,
} from "./readers.ts";

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
    issuer: optionalSetting(env, "AUTH_ISSUER"),
    audience: optionalSetting(env, "AUTH_AUDIENCE"),
    maxTokenAgeSeconds: durationSetting(env, "AUTH_MAX_TOKEN_AGE", DEFAULT_MAX_TOKEN_AGE_SECONDS),
  };
}

/** The AWS and exchange deadlines (every function, the keep-alive job included). */
export function timeouts(env: Env): Timeouts {
  return {
    awsAttemptMs: countSetting(env, "AWS_ATTEMPT_TIMEOUT_MS", 2_000, 50),
    awsMaxAttempts: countSetting(env, "AWS_MAX_ATTEMPTS", 2),
    exchangeMs: countSetting(env, "TOKEN_EXCHANGE_TIMEOUT_MS", 8_000, 100),
    budgetMs: countSetting(env, "CALLBACK_BUDGET_MS", 13_000, 100),
  };
}

/** The public API base URL (PUBLIC_API_URL) without trailing slashes. */
export function publicApiUrl(env: Env): string {
  return webUrl("PUBLIC_API_URL", requiredSetting(env, "PUBLIC_API_URL")).href.replace(/\/+$/, "");
}

function connect(env: Env): ConnectSettings {
  return {
    appOrigins: originsSetting(env, "APP_ORIGINS", true),
    redirectUri: `${publicApiUrl(env)}/connectors/oauth/callback`,
    successPath: pathSetting(env, "SUCCESS_PATH", DEFAULT_SUCCESS_PATH),
    errorPath: pathSetting(env, "ERROR_PATH", DEFAULT_ERROR_PATH),
    acceptRelayWithoutIss: flagSetting(env, "ACCEPT_RELAYED_CALLBACKS_WITHOUT_ISS"),
    maxPendingFlows: countSetting(env, "MAX_PENDING_FLOWS", DEFAULT_MAX_PENDING_FLOWS),
  };
}

/** Reads and validates the settings a function needs; throws a ConfigError naming the first bad one. */
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
