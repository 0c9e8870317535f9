/** Lambda entry of POST /connectors/getTokenFromCode (functions/src/routes.ts). */
import { lambdaEntry } from "./edge/entry.ts";
import { getTokenFromCode } from "./endpoints/get-token-from-code.ts";
import { handlers } from "./routes.ts";

export const handler = lambdaEntry(handlers.GetTokenFromCode, getTokenFromCode);
