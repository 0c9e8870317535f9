/** Lambda entry of PUT /connectors/{connectorId} (functions/src/routes.ts). */
import { lambdaEntry } from "./edge/entry.ts";
import { putConnector } from "./endpoints/connectors.ts";
import { handlers } from "./routes.ts";

export const handler = lambdaEntry(handlers.ConnectorPut, putConnector);
