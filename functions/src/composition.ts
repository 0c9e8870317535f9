/**
 * The composition root: a handler's dependencies built from an environment-like map, once (at module
 * scope in a Lambda entry, once per route in local mode and tests). Settings are read and validated
 * here (packages/config), AWS clients built here (edge/aws-clients.ts) and adapters wired to the
 * core. Nothing else constructs a client. Each handler asks for what its route's entry in the route
 * table says it is linked to (`needsOf`); a part it did not ask for is an `unlinked` stand-in that
 * fails loudly if ever used.
 *
 * Every AWS call has a deadline: each SDK attempt gives up after AWS_ATTEMPT_TIMEOUT_MS (connection
 * and response), and a call makes at most AWS_MAX_ATTEMPTS attempts, so one call takes at most
 * about attempts x timeout plus backoff. The callback keeps that much time back after the code
 * exchange to record its outcome (ConnectTiming, docs/reliability.md).
 */
import {
  dynamoConnectorStore,
  dynamoFlowStore,
  dynamoLeaseStore,
  kmsDataKeys,
  kmsStateMac,
} from "@connector-oauth/aws";
import {
  CLIENT_SECRET_CACHE_ENTRIES,
  CLIENT_SECRET_CACHE_MS,
  type Env,
  loadSettings,
  type Need,
  type Timeouts,
} from "@connector-oauth/config";
import {
  type Caller,
  type ConnectDeps,
  type ConnectTiming,
  cachingDataKeys,
  callerVerifier,
  DEFAULT_CONNECT_TIMING,
  fail,
  type LifecycleDeps,
  type Log,
  providers,
  type RefreshTiming,
} from "@connector-oauth/core";
import { AWS_BACKOFF_ALLOWANCE_MS, dynamoClient, kmsClient } from "./edge/aws-clients.ts";
import type { Handle } from "./edge/lambda.ts";
import { createLog } from "./edge/logging.ts";

export type VerifyCaller = (authorization: string | undefined) => Promise<Caller>;

/** What every route handler is built from. */
export interface EndpointDeps {
  /** The core's connect dependencies (stores, keys, catalog, settings, clock). */
  core: ConnectDeps;
  /** The token lifecycle's dependencies (refresh under the lease, disconnect) over the same stores
   * and keys, with the in-request timing below. */
  lifecycle: LifecycleDeps;
  /** Verifies the caller's bearer JWT (routes linked to Auth). */
  verifyCaller: VerifyCaller;
  log: Log;
}

/**
 * Refreshing or revoking inside a request (the token API, DELETE /connectors/{id}): two provider
 * attempts of at most 2.5 s and a 0.25 s pause (5.25 s) fit a 6.5 s lease; a caller that finds
 * another holder waits 7 s, longer than the lease, so it takes over from one that died. Worst case,
 * waiting out a dead holder and then refreshing, about 12.5 s plus the AWS calls: inside the
 * functions' 15 s timeout (stacks/api.ts) and API Gateway's 30 s. The keep-alive job and workers
 * keep the core's longer DEFAULT_TIMING.
 */
export const REQUEST_REFRESH_TIMING: RefreshTiming = {
  leaseMs: 6_500,
  waitMs: 7_000,
  pollMs: 150,
  maxAttempts: 2,
  baseDelayMs: 250,
  maxDelayMs: 1_000,
  attemptTimeoutMs: 2_500,
};

/** A route handler factory: dependencies in, request handler out. */
export type EndpointFactory = (deps: EndpointDeps) => Handle;

/** The callback's time budget from the settings. */
export function connectTiming(timeouts: Timeouts): ConnectTiming {
  return {
    ...DEFAULT_CONNECT_TIMING,
    budgetMs: timeouts.budgetMs,
    exchangeMs: timeouts.exchangeMs,
    awsCallMs: timeouts.awsMaxAttempts * timeouts.awsAttemptMs + AWS_BACKOFF_ALLOWANCE_MS,
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

/** Builds one handler's dependencies from `env`; throws a ConfigError naming a bad setting. */
export function compose(
  env: Env,
  needs: readonly Need[],
  log: Log = createLog("connector-oauth", env),
): EndpointDeps {
  const settings = loadSettings(env, needs);
  const dynamo = dynamoClient(env, settings.timeouts);
  const kms =
    needs.includes("stateKey") || needs.includes("dataKey") ? kmsClient(env, settings.timeouts) : undefined;
  const core: ConnectDeps = {
    connectors: dynamoConnectorStore(dynamo, settings.tableName),
    flows: dynamoFlowStore(dynamo, settings.tableName),
    stateMac: kms && settings.stateKeyId ? kmsStateMac(kms, settings.stateKeyId) : unlinked("STATE_KEY_ID"),
    dataKeys:
      kms && settings.dataKeyId
        ? cachingDataKeys(kmsDataKeys(kms, settings.dataKeyId), {
            ttlMs: CLIENT_SECRET_CACHE_MS,
            maxEntries: CLIENT_SECRET_CACHE_ENTRIES,
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
    log,
  };
  const lifecycle: LifecycleDeps = {
    connectors: core.connectors,
    leases: dynamoLeaseStore(dynamo, settings.tableName),
    dataKeys: core.dataKeys,
    catalog: core.catalog,
    now: core.now,
    sleep: core.sleep,
    log,
    fetch: core.fetch,
    timing: REQUEST_REFRESH_TIMING,
  };
  const verifyCaller: VerifyCaller = settings.auth
    ? callerVerifier(settings.auth)
    : () => Promise.reject(fail("internal_error", "AUTH is not configured for this function"));
  return { core, lifecycle, verifyCaller, log };
}
