/** GET /connectors/{connectorId}/oauth/authorize: the provider URL and a signed state. */
import { startConnect } from "@connector-oauth/core";
import type { EndpointFactory } from "../composition.ts";
import { json } from "../edge/http.ts";

export const authorize: EndpointFactory =
  ({ core, verifyCaller }) =>
  async (request) => {
    const caller = await verifyCaller(request.headers.authorization);
    const connectorId = request.pathParameters.connectorId ?? "";
    const baseUrl = request.query.get("baseUrl") ?? undefined;
    const { authorizationUrl, state } = await startConnect(core, caller, connectorId, baseUrl);
    return json(200, { success: true, authorizationUrl, state });
  };
