/** Lambda entry of POST /internal/orgs/{orgId}/connectors/{connectorId}/access-token (functions/src/routes.ts). */
import { lambdaEntry } from "./edge/entry.ts";
import { accessToken } from "./endpoints/access-token.ts";
import { handlers } from "./routes.ts";

export const handler = lambdaEntry(handlers.AccessToken, accessToken);
