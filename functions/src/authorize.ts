/** GET /connectors/{connectorId}/oauth/authorize: the provider URL and a signed state. */
import { startConnect } from "@connector-oauth/core";
import { compose, logger } from "./composition.ts";
import { errorJson, type HttpRequest, json } from "./edge/http.ts";
import { lambdaHandler } from "./edge/lambda.ts";

const { deps, verifyCaller } = compose(["stateKey", "connect", "auth"]);

export async function authorize(request: HttpRequest) {
  try {
    const caller = await verifyCaller(request.headers.authorization);
    const connectorId = request.pathParameters.connectorId ?? "";
    const baseUrl = request.query.get("baseUrl") ?? undefined;
    const { authorizationUrl, state } = await startConnect(deps, caller, connectorId, baseUrl);
    return json(200, { success: true, authorizationUrl, state });
  } catch (error) {
    return errorJson(error, logger);
  }
}

export const handler = lambdaHandler(authorize);
