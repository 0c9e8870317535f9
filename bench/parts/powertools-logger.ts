/** Import share of the Powertools logger: imported and constructed as functions/src/edge/logging.ts does. */
import { Logger } from "@aws-lambda-powertools/logger";

export const logger = new Logger({ serviceName: "bench" });
