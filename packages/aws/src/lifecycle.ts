/**
 * Token access wired to AWS, for a sync worker (Lambda or long-running process), the keep-alive job
 * and the CLI. The caller builds its DynamoDB and KMS clients once (at module scope in a Lambda) and
 * passes its settings, read once with `workerSettings` (packages/config) from its own configuration.
 *
 *   const access = awsTokenAccess({ dynamo, kms }, workerSettings(process.env));
 *   const { accessToken, metadata } = await access.getAccessToken(orgId, connectorId);
 */
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import type { KMSClient } from "@aws-sdk/client-kms";
import {
  CLIENT_SECRET_CACHE_ENTRIES,
  CLIENT_SECRET_CACHE_MS,
  type WorkerSettings,
} from "@connector-oauth/config";
import type { Log } from "../../core/src/errors.ts";
import { cachingDataKeys } from "../../core/src/key-cache.ts";
import type { RefreshTiming } from "../../core/src/lifecycle/context.ts";
import { createTokenAccess, type TokenAccess } from "../../core/src/lifecycle/token-access.ts";
import { providers } from "../../core/src/providers.ts";
import { dynamoConnectorStore } from "./dynamo.ts";
import { kmsDataKeys } from "./kms.ts";
import { dynamoLeaseStore } from "./leases.ts";

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
    dataKeys: cachingDataKeys(dataKeys, {
      ttlMs: CLIENT_SECRET_CACHE_MS,
      maxEntries: CLIENT_SECRET_CACHE_ENTRIES,
      now,
    }),
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
