/**
 * The composition root: settings read and validated once, AWS clients built once per container
 * (reused by warm invocations), adapters wired to the core. Nothing else constructs a client.
 * Each handler asks for what it uses (`compose(needs)`), matching what its deployed function is
 * linked to; a part it did not ask for is an `unlinked` stand-in that fails loudly if ever used.
 * Endpoints and credentials come from the standard AWS SDK settings (AWS_ENDPOINT_URL_DYNAMODB,
 * AWS_ENDPOINT_URL_KMS, AWS_REGION, ...), so local mode needs no branch here.
 *
 * Every AWS call has a deadline: each SDK attempt gives up after AWS_ATTEMPT_TIMEOUT_MS (connection
 * and response), and a call makes at most AWS_MAX_ATTEMPTS attempts, so one call takes at most
 * about attempts x timeout plus backoff. The callback keeps that much time back after the code
 * exchange to record its outcome (ConnectTiming, docs/reliability.md).
 */
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { KMSClient } from "@aws-sdk/client-kms";
import { dynamoConnectorStore, dynamoFlowStore, kmsDataKeys, kmsStateMac } from "@connector-oauth/aws";
import {
  type Caller,
  type ConnectDeps,
  type ConnectTiming,
  cachingDataKeys,
  callerVerifier,
  DEFAULT_CONNECT_TIMING,
  fail,
  providers,
} from "@connector-oauth/core";
import { linkedSettings } from "./edge/linked-settings.ts";
import { createLog } from "./edge/logging.ts";
import { loadSettings, type Need, type Timeouts } from "./edge/settings.ts";

export const logger = createLog("connector-oauth");

/** Client-secret data keys stay decrypted in memory this long (per warm container). */
const CLIENT_SECRET_CACHE_MS = 5 * 60_000;

/** Backoff between SDK attempts (standard retry mode: up to 100 ms x 2^n, throttling 500 ms x 2^n). */
const SDK_BACKOFF_ALLOWANCE_MS = 500;

/** SDK client settings: bounded attempts, each with a connection and a response timeout. */
export function awsClientConfig(timeouts: Timeouts) {
  return {
    maxAttempts: timeouts.awsMaxAttempts,
    requestHandler: {
      connectionTimeout: Math.min(1_000, timeouts.awsAttemptMs),
      requestTimeout: timeouts.awsAttemptMs,
      // @smithy/node-http-handler 4.x only logs a warning when requestTimeout passes unless told to
      // throw (then it destroys the request with a retryable TimeoutError).
      throwOnRequestTimeout: true,
    },
  };
}

/** The callback's time budget from the settings. */
export function connectTiming(timeouts: Timeouts): ConnectTiming {
  return {
    ...DEFAULT_CONNECT_TIMING,
    budgetMs: timeouts.budgetMs,
    exchangeMs: timeouts.exchangeMs,
    awsCallMs: timeouts.awsMaxAttempts * timeouts.awsAttemptMs + SDK_BACKOFF_ALLOWANCE_MS,
  };
}

/** A part this function is not linked to: any use is a wiring bug, reported as a 500. */
function unlinked<T extends object>(setting: string): T {
  return new Proxy({} as T, {
    get() {
      throw fail("internal_error", `${setting} is not configured for this function`);
    },
  });
}

/** Builds the dependencies of one handler from its settings; call once, at module scope. */
export function compose(needs: readonly Need[]) {
  const settings = loadSettings({ ...process.env, ...linkedSettings() }, needs);
  const clientConfig = awsClientConfig(settings.timeouts);
  const dynamo = new DynamoDBClient(clientConfig);
  const kms =
    needs.includes("stateKey") || needs.includes("dataKey") ? new KMSClient(clientConfig) : undefined;
  const deps: ConnectDeps = {
    connectors: dynamoConnectorStore(dynamo, settings.tableName),
    flows: dynamoFlowStore(dynamo, settings.tableName),
    stateMac: kms && settings.stateKeyId ? kmsStateMac(kms, settings.stateKeyId) : unlinked("STATE_KEY_ID"),
    dataKeys:
      kms && settings.dataKeyId
        ? cachingDataKeys(kmsDataKeys(kms, settings.dataKeyId), {
            ttlMs: CLIENT_SECRET_CACHE_MS,
            maxEntries: 100,
            now: () => Date.now(),
          })
        : unlinked("DATA_KEY_ID"),
    catalog: {
      catalog: providers,
      overrides: settings.providerOverrides,
      allowLoopbackHttp: settings.allowLoopbackHttp,
    },
    settings: settings.connect ?? unlinked("APP_ORIGINS / PUBLIC_API_URL"),
    timing: connectTiming(settings.timeouts),
    now: () => Date.now(),
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    log: logger,
  };
  const verifyCaller: (authorization: string | undefined) => Promise<Caller> = settings.auth
    ? callerVerifier(settings.auth)
    : () => Promise.reject(fail("internal_error", "AUTH is not configured for this function"));
  return { deps, verifyCaller };
}
