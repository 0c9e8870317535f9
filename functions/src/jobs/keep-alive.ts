/**
 * The keep-alive job: refreshes access tokens about to expire and touches grants idle long enough for
 * providers to expire them (packages/core/src/lifecycle/keep-alive.ts). It needs only the table and
 * the data key: worker settings (packages/config), not a route's. Built from an environment-like
 * map, like the route handlers.
 */
import { awsTokenAccess, dynamoConnectorStore } from "@connector-oauth/aws";
import { type Env, timeouts, workerSettings } from "@connector-oauth/config";
import { DEFAULT_KEEP_ALIVE, keepAlive } from "@connector-oauth/core";
import { dynamoClient, kmsClient } from "../edge/aws-clients.ts";
import { createLog } from "../edge/logging.ts";

/** No refresh starts this close to the function's timeout (one refresh fits well within it). */
const STOP_BEFORE_TIMEOUT_MS = 45_000;

export interface LambdaContext {
  getRemainingTimeInMillis(): number;
}

/** The scheduled job's handler, composed from `env`; throws a ConfigError naming a bad setting. */
export function keepAliveJob(env: Env) {
  const settings = workerSettings(env);
  const log = createLog("connector-oauth-keep-alive", env);
  // The same per-attempt deadlines as the route functions: a hung call must not eat the job's time.
  const deadlines = timeouts(env);
  const dynamo = dynamoClient(env, deadlines);
  const access = awsTokenAccess({ dynamo, kms: kmsClient(env, deadlines) }, settings, { log });
  const connectors = dynamoConnectorStore(dynamo, settings.tableName);
  return async (_event: unknown, context?: LambdaContext) => {
    const now = Date.now();
    const deadline = context ? now + context.getRemainingTimeInMillis() - STOP_BEFORE_TIMEOUT_MS : undefined;
    const summary = await keepAlive(
      { connectors, access, now: () => Date.now(), log },
      DEFAULT_KEEP_ALIVE,
      deadline,
    );
    log.info("keep-alive finished", { ...summary });
    return summary;
  };
}
