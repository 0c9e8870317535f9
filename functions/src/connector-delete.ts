/** Lambda entry of DELETE /connectors/{connectorId} (functions/src/routes.ts). */
import { lambdaEntry } from "./edge/entry.ts";
import { deleteConnector } from "./endpoints/connectors.ts";
import { handlers } from "./routes.ts";

export const handler = lambdaEntry(handlers.ConnectorDelete, deleteConnector);
