/**
 * AWS SDK client settings shared by every function: bounded attempts, each with a connection and a
 * whole-request timeout (docs/reliability.md, "Deadlines").
 */
import type { Timeouts } from "./settings.ts";

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
