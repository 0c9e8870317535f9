/** Structured JSON logs through Powertools; callers pass only ids and error descriptions, never secrets. */
import { Logger } from "@aws-lambda-powertools/logger";
import type { Log } from "@connector-oauth/core";

export function createLog(serviceName: string): Log {
  const powertools = new Logger({ serviceName });
  return {
    info: (message, details = {}) => powertools.info(message, details),
    warn: (message, details = {}) => powertools.warn(message, details),
    error: (message, details = {}) => powertools.error(message, details),
  };
}
