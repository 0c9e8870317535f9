/** POST /connectors/getTokenFromCode (legacy): an admin exchanges a Google Workspace code. */
import { exchangeLegacyCode, fail } from "@connector-oauth/core";
import { compose, logger } from "./composition.ts";
import { errorJson, type HttpRequest, json } from "./edge/http.ts";
import { lambdaHandler } from "./edge/lambda.ts";

const { deps, verifyCaller } = compose(["dataKey", "auth"]);

function parseBody(body: string | undefined): unknown {
  try {
    return JSON.parse(body ?? "");
  } catch {
    throw fail("invalid_request", "The body must be JSON");
  }
}

export async function getTokenFromCode(request: HttpRequest) {
  try {
    const caller = await verifyCaller(request.headers.authorization);
    return json(200, await exchangeLegacyCode(deps, caller, parseBody(request.body)));
  } catch (error) {
    return errorJson(error, logger);
  }
}

export const handler = lambdaHandler(getTokenFromCode);
