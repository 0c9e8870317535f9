/**
 * POST /connectors/getTokenFromCode (legacy, PipesHub's contract): an org admin exchanges a Google
 * Workspace popup code. The body is read here (`code` or `tempCode`, optional `connectorId`) and the
 * answer is PipesHub's shape; the exchange itself is the core's `connectLegacy`.
 */
import { assertAdmin, connectLegacy, fail, parseLegacyRequest, publicConnector } from "@connector-oauth/core";
import type { EndpointFactory } from "../composition.ts";
import { json } from "../edge/http.ts";

function parseBody(body: string | undefined): unknown {
  try {
    return JSON.parse(body ?? "");
  } catch {
    throw fail("invalid_request", "The body must be JSON");
  }
}

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
