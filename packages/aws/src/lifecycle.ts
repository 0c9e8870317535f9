/**
 * Token access wired to AWS, for a sync worker (Lambda or long-running process), the keep-alive job
 * and the CLI. The caller builds its DynamoDB and KMS clients once (at module scope in a Lambda) and
 * passes its settings, read once with `workerSettings` from its own configuration.
 *
 *   const access = awsTokenAccess({ dynamo, kms }, workerSettings(process.env));
 *   const { accessToken, metadata } = await access.getAccessToken(orgId, connectorId);
 */
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import type { KMSClient } from "@aws-sdk/client-kms";
import type { ProviderOverrides } from "../../core/src/catalog.ts";
import type { Log } from "../../core/src/errors.ts";
import { cachingDataKeys } from "../../core/src/key-cache.ts";
import type { RefreshTiming } from "../../core/src/lifecycle/context.ts";
import { createTokenAccess, type TokenAccess } from "../../core/src/lifecycle/token-access.ts";
import { providers } from "../../core/src/providers.ts";
import {
  configError,
  type Env,
  flagSetting,
  providerOverridesSetting,
  requiredSetting,
} from "../../core/src/settings.ts";
import { dynamoConnectorStore } from "./dynamo.ts";
import { kmsDataKeys } from "./kms.ts";
import { dynamoLeaseStore } from "./leases.ts";

export interface WorkerSettings {
  tableName: string;
  /** The envelope data key (id, ARN or alias). */
  dataKeyId: string;
  /** Plain http to loopback providers: local mode and tests only. */
  allowLoopbackHttp: boolean;
  providerOverrides?: ProviderOverrides;
  /** Refresh when the token expires within this (default 5 minutes). */
  marginMs?: number;
}

/**
 * Reads TABLE_NAME and DATA_KEY_ID (required), TOKEN_REFRESH_MARGIN_SECONDS, ALLOW_LOOPBACK_HTTP and
 * PROVIDER_OVERRIDES (optional) from an environment-like map; throws naming the first bad setting.
 */
export function workerSettings(env: Env): WorkerSettings {
  const margin = env.TOKEN_REFRESH_MARGIN_SECONDS?.trim();
  if (margin && !/^\d{1,5}$/.test(margin))
    configError("TOKEN_REFRESH_MARGIN_SECONDS", "must be a number of seconds");
  const allowLoopbackHttp = flagSetting(env, "ALLOW_LOOPBACK_HTTP");
  return {
    tableName: requiredSetting(env, "TABLE_NAME"),
    dataKeyId: requiredSetting(env, "DATA_KEY_ID"),
    allowLoopbackHttp,
    providerOverrides: providerOverridesSetting(env, { catalog: providers, allowLoopbackHttp }),
    marginMs: margin ? Number(margin) * 1000 : undefined,
  };
}

/** One JSON line per event on stdout/stderr; callers pass ids and error descriptions only. */
const consoleLog: Log = {
  info: (message, details = {}) => console.info(JSON.stringify({ level: "INFO", message, ...details })),
  warn: (message, details = {}) => console.warn(JSON.stringify({ level: "WARN", message, ...details })),
  error: (message, details = {}) => console.error(JSON.stringify({ level: "ERROR", message, ...details })),
};

export interface WorkerOptions {
  log?: Log;
  fetch?: typeof fetch;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
  timing?: Partial<RefreshTiming>;
}

/** Client-secret data keys stay decrypted in memory this long (token data keys are never cached). */
const CLIENT_SECRET_CACHE_MS = 5 * 60_000;

/** getAccessToken / refresh / disconnect over the service's table and data key. */
export function awsTokenAccess(
  clients: { dynamo: DynamoDBClient; kms: KMSClient },
  settings: WorkerSettings,
  options: WorkerOptions = {},
): TokenAccess {
  const now = options.now ?? (() => Date.now());
  const dataKeys = kmsDataKeys(clients.kms, settings.dataKeyId);
  return createTokenAccess({
    connectors: dynamoConnectorStore(clients.dynamo, settings.tableName),
    leases: dynamoLeaseStore(clients.dynamo, settings.tableName),
    dataKeys: cachingDataKeys(dataKeys, { ttlMs: CLIENT_SECRET_CACHE_MS, maxEntries: 100, now }),
    catalog: {
      catalog: providers,
      overrides: settings.providerOverrides,
      allowLoopbackHttp: settings.allowLoopbackHttp,
    },
    now,
    sleep: options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms))),
    log: options.log ?? consoleLog,
    fetch: options.fetch,
    marginMs: settings.marginMs,
    timing: options.timing,
  });
}
