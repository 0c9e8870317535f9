/**
 * The keep-alive job, invoked by an EventBridge schedule (not behind API Gateway): refreshes access
 * tokens about to expire and touches grants idle long enough for providers to expire them
 * (packages/core/src/lifecycle/keep-alive.ts). Its own small composition root, because it needs only
 * the table and the data key, not the HTTP settings composition.ts validates at cold start.
 */
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { KMSClient } from "@aws-sdk/client-kms";
import { awsTokenAccess, dynamoConnectorStore, workerSettings } from "@connector-oauth/aws";
import { DEFAULT_KEEP_ALIVE, keepAlive } from "@connector-oauth/core";
import { awsClientConfig } from "./edge/aws-clients.ts";
import { linkedSettings } from "./edge/linked-settings.ts";
import { createLog } from "./edge/logging.ts";
import { timeouts } from "./edge/settings.ts";

const settings = workerSettings({ ...process.env, ...linkedSettings() });
const log = createLog("connector-oauth-keep-alive");

// The same per-attempt deadlines as the route functions: a hung call must not eat the job's time.
const clientConfig = awsClientConfig(timeouts(process.env));
const dynamo = new DynamoDBClient(clientConfig);
const kms = new KMSClient(clientConfig);
const access = awsTokenAccess({ dynamo, kms }, settings, { log });
const connectors = dynamoConnectorStore(dynamo, settings.tableName);

/** No refresh starts this close to the function's timeout (one refresh fits well within it). */
const STOP_BEFORE_TIMEOUT_MS = 45_000;

export async function handler(_event: unknown, context?: { getRemainingTimeInMillis(): number }) {
  const now = Date.now();
  const deadline = context ? now + context.getRemainingTimeInMillis() - STOP_BEFORE_TIMEOUT_MS : undefined;
  const summary = await keepAlive(
    { connectors, access, now: () => Date.now(), log },
    DEFAULT_KEEP_ALIVE,
    deadline,
  );
  log.info("keep-alive finished", { ...summary });
  return summary;
}
