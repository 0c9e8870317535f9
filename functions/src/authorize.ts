/** Lambda entry of GET /connectors/{connectorId}/oauth/authorize (functions/src/routes.ts). */
import { lambdaEntry } from "./edge/entry.ts";
import { authorize } from "./endpoints/authorize.ts";
import { handlers } from "./routes.ts";

export const handler = lambdaEntry(handlers.Authorize, authorize);
