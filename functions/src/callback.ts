/** Lambda entry of GET /connectors/oauth/callback (functions/src/routes.ts). */
import { lambdaEntry } from "./edge/entry.ts";
import { callback } from "./endpoints/callback.ts";
import { handlers } from "./routes.ts";

export const handler = lambdaEntry(handlers.Callback, callback);
