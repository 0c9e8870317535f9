/**
 * The one Lambda adapter: API Gateway HTTP API payload 2.0 events in, structured results out, and
 * the one place a handler's thrown error becomes the JSON error body (edge/http.ts). Query
 * parameters are parsed from `rawQueryString` so duplicates stay visible (API Gateway joins them
 * with commas in `queryStringParameters`).
 */
import type { Log } from "@connector-oauth/core";
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import { errorJson, type HttpRequest, type HttpResponse } from "./http.ts";

export type Handle = (request: HttpRequest) => Promise<HttpResponse>;
export type LambdaHandler = (event: APIGatewayProxyEventV2) => Promise<APIGatewayProxyStructuredResultV2>;

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
    iamCaller: iamCaller(event),
  };
}

/** The IAM principal API Gateway's IAM authorizer verified (routes with AWS_IAM authorization). */
function iamCaller(event: APIGatewayProxyEventV2): HttpRequest["iamCaller"] {
  const iam = (event.requestContext as { authorizer?: { iam?: { accountId?: string; userArn?: string } } })
    .authorizer?.iam;
  return iam?.userArn ? { accountId: iam.accountId ?? "", arn: iam.userArn } : undefined;
}

/** Wraps a handle function as a Lambda handler; a thrown error answers as JSON (edge/http.ts). */
export function lambdaHandler(handle: Handle, log: Log): LambdaHandler {
  return async (event) => {
    const response = await handle(toRequest(event)).catch((error: unknown) => errorJson(error, log));
    return { statusCode: response.statusCode, headers: response.headers, body: response.body };
  };
}
