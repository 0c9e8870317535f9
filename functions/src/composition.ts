/**
 * The composition root: settings read and validated once, AWS clients built once per container
 * (reused by warm invocations), adapters wired to the core. Nothing else constructs a client.
 * Endpoints and credentials come from the standard AWS SDK settings (AWS_ENDPOINT_URL_DYNAMODB,
 * AWS_ENDPOINT_URL_KMS, AWS_REGION, ...), so local mode needs no branch here.
 */
import { Logger } from "@aws-lambda-powertools/logger";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { KMSClient } from "@aws-sdk/client-kms";
import { dynamoConnectorStore, dynamoFlowStore, kmsDataKeys, kmsStateMac } from "@connector-oauth/aws";
import {
  type ConnectDeps,
  cachingDataKeys,
  callerVerifier,
  type Log,
  providers,
} from "@connector-oauth/core";
import { linkedSettings } from "./edge/linked-settings.ts";
import { loadSettings } from "./edge/settings.ts";

export const settings = loadSettings({ ...process.env, ...linkedSettings() });
const powertools = new Logger({ serviceName: "connector-oauth" });
/** Structured JSON logs; callers pass only ids and error descriptions, never secrets. */
export const logger: Log = {
  info: (message, details = {}) => powertools.info(message, details),
  warn: (message, details = {}) => powertools.warn(message, details),
  error: (message, details = {}) => powertools.error(message, details),
};

const dynamo = new DynamoDBClient({});
const kms = new KMSClient({});

/** Client-secret data keys stay decrypted in memory this long (per warm container). */
const CLIENT_SECRET_CACHE_MS = 5 * 60_000;

export const deps: ConnectDeps = {
  connectors: dynamoConnectorStore(dynamo, settings.tableName),
  flows: dynamoFlowStore(dynamo, settings.tableName),
  stateMac: kmsStateMac(kms, settings.stateKeyId),
  dataKeys: cachingDataKeys(kmsDataKeys(kms, settings.dataKeyId), {
    ttlMs: CLIENT_SECRET_CACHE_MS,
    maxEntries: 100,
    now: () => Date.now(),
  }),
  catalog: {
    catalog: providers,
    overrides: settings.providerOverrides,
    allowLoopbackHttp: settings.allowLoopbackHttp,
  },
  settings: settings.connect,
  now: () => Date.now(),
  log: logger,
};

export const verifyCaller = callerVerifier(settings.auth);
