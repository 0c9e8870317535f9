/**
 * The connectors API (SPEC 2.4): PUT, GET and DELETE /connectors/{connectorId} and GET /connectors,
 * for the product that embeds us, with the caller's bearer JWT. The rules live in the core
 * (manage.ts); this module reads the request (body, `If-Match`, page parameters) and shapes the
 * answer. Each route is its own function (functions/src/routes.ts), so reading cannot write and
 * only DELETE can open tokens.
 *
 * Versions: every connector answer carries `version` and an `ETag` of it ("3"); `If-Match: "3"`
 * (or 3, or *) makes a change conditional: a stale one answers 409 conflict.
 */
import {
  deleteConnector as deleteStored,
  fail,
  getConnector as getStored,
  listConnectors as listStored,
  type Precondition,
  putConnector as putStored,
} from "@connector-oauth/core";
import type { EndpointFactory } from "../composition.ts";
import { type HttpRequest, type HttpResponse, json, parseBody } from "../edge/http.ts";

/** `If-Match`: one entity tag, `"3"` or `3` (a version), or `*`; absent: unconditional. */
export function parseIfMatch(header: string | undefined): Precondition | undefined {
  if (header === undefined) return undefined;
  const value = header.trim();
  if (value === "*") return "*";
  const version = /^(?:"(\d{1,15})"|(\d{1,15}))$/.exec(value);
  if (!version) throw fail("invalid_request", 'If-Match must be one version, as in If-Match: "3"');
  return Number(version[1] ?? version[2]);
}

function withVersion(response: HttpResponse, version: number): HttpResponse {
  response.headers.etag = `"${version}"`;
  return response;
}

const connectorIdOf = (request: HttpRequest) => request.pathParameters.connectorId ?? "";

export const putConnector: EndpointFactory =
  ({ core, verifyCaller }) =>
  async (request) => {
    const caller = await verifyCaller(request.headers.authorization);
    const ifMatch = parseIfMatch(request.headers["if-match"]);
    const { connector, created, tokensRemoved } = await putStored(core, caller, {
      connectorId: connectorIdOf(request),
      body: parseBody(request.body),
      ifMatch,
    });
    return withVersion(
      json(created ? 201 : 200, { success: true, connector, tokensRemoved }),
      connector.version,
    );
  };

export const getConnector: EndpointFactory =
  ({ core, verifyCaller }) =>
  async (request) => {
    const caller = await verifyCaller(request.headers.authorization);
    const connector = await getStored(core, caller, connectorIdOf(request));
    return withVersion(json(200, { success: true, connector }), connector.version);
  };

export const listConnectors: EndpointFactory =
  ({ core, verifyCaller }) =>
  async (request) => {
    const caller = await verifyCaller(request.headers.authorization);
    const page = await listStored(core, caller, {
      limit: request.query.get("limit") ?? undefined,
      cursor: request.query.get("cursor") ?? undefined,
    });
    return json(200, { success: true, connectors: page.connectors, nextCursor: page.nextCursor });
  };

export const deleteConnector: EndpointFactory =
  ({ lifecycle, verifyCaller }) =>
  async (request) => {
    const caller = await verifyCaller(request.headers.authorization);
    const { connectorId, revocation } = await deleteStored(lifecycle, caller, {
      connectorId: connectorIdOf(request),
      ifMatch: parseIfMatch(request.headers["if-match"]),
    });
    return json(200, { success: true, connectorId, deleted: true, revocation });
  };
