/**
 * The AWS SDK clients of a function, built once per container from an environment-like map: bounded
 * attempts, each with a connection and a whole-request timeout (docs/reliability.md, "Deadlines"),
 * and the standard AWS SDK settings (AWS_REGION, AWS_ENDPOINT_URL_<SERVICE>, AWS_ENDPOINT_URL,
 * AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN) read from that map, not from
 * `process.env`, so local mode and tests hand each handler its own settings. In Lambda the map is
 * the function's environment, where the runtime puts the role's credentials
 * (https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html#configuration-envvars-runtime).
 */
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { KMSClient } from "@aws-sdk/client-kms";
import type { Env, Timeouts } from "@connector-oauth/config";

/** Backoff before the second attempt: the SDK's standard retry waits a random part of 50 ms, or of
 * 1 s after throttling (`Retry.delay` / `Retry.throttlingDelay` in @smithy/core's retry module,
 * node_modules/@smithy/core/dist-cjs/submodules/retry/index.js); each further attempt doubles it. */
export const AWS_BACKOFF_ALLOWANCE_MS = 1_000;

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

/** The standard SDK settings for `service` ("DYNAMODB", "KMS") found in `env`; absent ones are left
 * to the SDK's defaults. */
function standardSettings(env: Env, service: string) {
  const endpoint = env[`AWS_ENDPOINT_URL_${service}`] || env.AWS_ENDPOINT_URL || undefined;
  const { AWS_ACCESS_KEY_ID: accessKeyId, AWS_SECRET_ACCESS_KEY: secretAccessKey } = env;
  const sessionToken = env.AWS_SESSION_TOKEN || undefined;
  return {
    ...(env.AWS_REGION && { region: env.AWS_REGION }),
    ...(endpoint && { endpoint }),
    ...(accessKeyId && secretAccessKey && { credentials: { accessKeyId, secretAccessKey, sessionToken } }),
  };
}

export function dynamoClient(env: Env, timeouts: Timeouts): DynamoDBClient {
  return new DynamoDBClient({ ...awsClientConfig(timeouts), ...standardSettings(env, "DYNAMODB") });
}

export function kmsClient(env: Env, timeouts: Timeouts): KMSClient {
  return new KMSClient({ ...awsClientConfig(timeouts), ...standardSettings(env, "KMS") });
}
