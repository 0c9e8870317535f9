/**
 * POST /connectors/getTokenFromCode (legacy, PipesHub's contract): an org admin exchanges a Google
 * Workspace popup code. The body is read here (`code` or `tempCode`, optional `connectorId`) and the
 * answer is PipesHub's shape; the exchange itself is the core's `connectLegacy`.
 */
import { assertAdmin, connectLegacy, parseLegacyRequest, publicConnector } from "@connector-oauth/core";
import type { EndpointFactory } from "../composition.ts";
import { json, parseBody } from "../edge/http.ts";

export const getTokenFromCode: EndpointFactory =
  ({ core, verifyCaller }) =>
  async (request) => {
    const caller = await verifyCaller(request.headers.authorization);
    // A member learns nothing about what a valid body looks like.
    assertAdmin(caller);
    const saved = await connectLegacy(core, caller, parseLegacyRequest(parseBody(request.body)));
    return json(200, {
      success: true,
      message: "Google Workspace connected",
      connector: publicConnector(saved),
    });
  };
