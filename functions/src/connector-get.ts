/** Lambda entry of GET /connectors/{connectorId} (functions/src/routes.ts). */
import { lambdaEntry } from "./edge/entry.ts";
import { getConnector } from "./endpoints/connectors.ts";
import { handlers } from "./routes.ts";

export const handler = lambdaEntry(handlers.ConnectorGet, getConnector);
