/**
 * The one Lambda adapter: API Gateway HTTP API payload 2.0 events in, structured results out.
 * Query parameters are parsed from `rawQueryString` so duplicates stay visible (API Gateway joins
 * them with commas in `queryStringParameters`).
 */
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import type { HttpRequest, HttpResponse } from "./http.ts";

export type Handle = (request: HttpRequest) => Promise<HttpResponse>;

export function toRequest(event: APIGatewayProxyEventV2): HttpRequest {
  const headers: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(event.headers ?? {})) headers[name.toLowerCase()] = value;
  const body =
    event.body === undefined
      ? undefined
      : event.isBase64Encoded
        ? Buffer.from(event.body, "base64").toString("utf8")
        : event.body;
  return {
    method: event.requestContext.http.method,
    path: event.rawPath,
    pathParameters: event.pathParameters ?? {},
    query: new URLSearchParams(event.rawQueryString ?? ""),
    headers,
    body,
  };
}

/** Wraps a handle function as a Lambda handler for payload 2.0 events. */
export function lambdaHandler(handle: Handle) {
  return async (event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> => {
    const response = await handle(toRequest(event));
    return { statusCode: response.statusCode, headers: response.headers, body: response.body };
  };
}
