/** POST /connectors/getTokenFromCode (legacy): an admin exchanges a Google Workspace code. */
import { exchangeLegacyCode, fail } from "@connector-oauth/core";
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
    return json(200, await exchangeLegacyCode(core, caller, parseBody(request.body)));
  };
