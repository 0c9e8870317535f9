/** Structured JSON logs through Powertools; callers pass only ids and error descriptions, never secrets. */
import { Logger } from "@aws-lambda-powertools/logger";
import type { LogLevel } from "@aws-lambda-powertools/logger/types";
import type { Env } from "@connector-oauth/config";
import type { Log } from "@connector-oauth/core";

/** A logger at the level `env` sets (POWERTOOLS_LOG_LEVEL or LOG_LEVEL; Lambda's own log-level
 * control, AWS_LAMBDA_LOG_LEVEL, still takes precedence inside Powertools). */
export function createLog(serviceName: string, env: Env): Log {
  const powertools = new Logger({
    serviceName,
    logLevel: (env.POWERTOOLS_LOG_LEVEL || env.LOG_LEVEL || undefined) as LogLevel | undefined,
  });
  return {
    info: (message, details = {}) => powertools.info(message, details),
    warn: (message, details = {}) => powertools.warn(message, details),
    error: (message, details = {}) => powertools.error(message, details),
  };
}
