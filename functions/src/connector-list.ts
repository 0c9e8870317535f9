/** Lambda entry of GET /connectors (functions/src/routes.ts). */
import { lambdaEntry } from "./edge/entry.ts";
import { listConnectors } from "./endpoints/connectors.ts";
import { handlers } from "./routes.ts";

export const handler = lambdaEntry(handlers.ConnectorList, listConnectors);
