/**
 * A local stand-in for API Gateway's HTTP API: turns each HTTP request into a payload 2.0 event,
 * invokes the route's Lambda handler and writes its structured result back. Listens on 127.0.0.1.
 * Routes the route table marks `iam` get API Gateway's IAM authorizer: the request must carry a
 * SigV4 signature (service execute-api) by the local credentials, checked with the AWS SDK's own
 * signer (sigv4.ts), and the handler then sees `requestContext.authorizer.iam` as deployed.
 */
import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { hostAllowed } from "@connector-oauth/config";
import type { ErrorCode } from "@connector-oauth/core";
import { handlers, json, type LambdaHandler, STATUS } from "@connector-oauth/functions";
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import { type Credentials, verifySigV4 } from "./sigv4.ts";

export interface Route {
  method: string;
  /** API Gateway route path, e.g. /connectors/{connectorId}/oauth/authorize */
  path: string;
  handler: LambdaHandler;
}

export interface LocalApi {
  url: string;
  port: number;
  /** Starts answering the requests held so far (with `held`). */
  open(): void;
  close(): Promise<void>;
}

/**
 * What API Gateway's IAM authorizer puts in a payload 2.0 event's `requestContext.authorizer.iam`:
 * these seven fields, as the AWS Lambda Powertools parser's `APIGatewayRequestContextV2` type
 * (docs.aws.amazon.com/powertools/typescript, parser types) and `aws_lambda_events`'
 * `ApiGatewayRequestAuthorizerIamDescription` list them. The handler reads `userArn` and `accountId`.
 */
export interface IamIdentity {
  accessKey: string;
  accountId: string;
  callerId: string;
  cognitoIdentity: null;
  principalOrgId: null;
  userArn: string;
  userId: string;
}

/** Local mode's account and the user its local credentials stand for. */
export const LOCAL_ACCOUNT_ID = "000000000000";
export const LOCAL_USER_ARN = `arn:aws:iam::${LOCAL_ACCOUNT_ID}:user/local`;

/** Route keys ("METHOD /path") the route table puts behind the IAM authorizer. */
const IAM_ROUTES = new Set<string>(
  Object.values(handlers)
    .filter((entry) => "iam" in entry && entry.iam)
    .map((entry) => entry.route),
);

type Fallback = (request: IncomingMessage, response: ServerResponse) => boolean | Promise<boolean>;

/** The route for this method and path; else the methods other routes at this path take (for 405). */
function matchRoute(routes: Route[], method: string, path: string) {
  const allow: string[] = [];
  for (const route of routes) {
    const names: string[] = [];
    const pattern = route.path.replace(/\{(\w+)\}/g, (_, name: string) => {
      names.push(name);
      return "([^/]+)";
    });
    const match = new RegExp(`^${pattern}$`).exec(path);
    if (!match) continue;
    if (route.method !== method) allow.push(route.method);
    else return { route, params: decodeParams(names, match.slice(1)), allow };
  }
  return { allow };
}

/** Path parameters as API Gateway passes them (percent-decoded); undefined when one does not decode. */
function decodeParams(names: string[], raw: string[]): Record<string, string> | undefined {
  try {
    return Object.fromEntries(names.map((name, i) => [name, decodeURIComponent(raw[i] ?? "")]));
  } catch {
    return undefined;
  }
}

async function readBody(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Builds the payload 2.0 event API Gateway would send for this request. */
export function toEvent(
  request: IncomingMessage,
  route: Route,
  params: Record<string, string>,
  body: Buffer,
  iam?: IamIdentity,
) {
  const url = new URL(request.url ?? "/", "http://localhost");
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers)) {
    if (value !== undefined && name !== "cookie")
      headers[name] = Array.isArray(value) ? value.join(",") : value;
  }
  const query: Record<string, string> = {};
  for (const [name, value] of url.searchParams)
    query[name] = name in query ? `${query[name]},${value}` : value;
  const now = new Date();
  const method = request.method ?? "GET";
  return {
    version: "2.0",
    routeKey: `${method} ${route.path}`,
    rawPath: url.pathname,
    rawQueryString: url.search.slice(1),
    cookies: request.headers.cookie?.split(/;\s*/),
    headers,
    queryStringParameters: url.search ? query : undefined,
    pathParameters: Object.keys(params).length ? params : undefined,
    requestContext: {
      accountId: "000000000000",
      apiId: "local",
      domainName: request.headers.host ?? "localhost",
      domainPrefix: "local",
      http: {
        method,
        path: url.pathname,
        protocol: "HTTP/1.1",
        sourceIp: request.socket.remoteAddress ?? "127.0.0.1",
        userAgent: headers["user-agent"] ?? "",
      },
      authorizer: iam ? { iam } : undefined,
      requestId: randomUUID(),
      routeKey: `${method} ${route.path}`,
      stage: "$default",
      time: now.toUTCString(),
      timeEpoch: now.getTime(),
    },
    body: body.length ? body.toString("base64") : undefined,
    isBase64Encoded: body.length > 0,
  } as APIGatewayProxyEventV2;
}

function writeResult(response: ServerResponse, result: APIGatewayProxyStructuredResultV2) {
  response.statusCode = result.statusCode ?? 200;
  for (const [name, value] of Object.entries(result.headers ?? {})) response.setHeader(name, String(value));
  if (result.cookies?.length) response.setHeader("set-cookie", result.cookies);
  const body = result.body ?? "";
  response.end(result.isBase64Encoded ? Buffer.from(body, "base64") : body);
}

/** An answer of the local server itself, in the service's error shape and closed set of codes. */
function sendError(response: ServerResponse, code: ErrorCode, message: string, headers = {}) {
  const {
    statusCode,
    headers: base,
    body,
  } = json(STATUS[code], { success: false, error: { code, message } });
  response.writeHead(statusCode, { ...base, ...headers }).end(body);
}

async function serve(
  options: ApiOptions,
  opened: Promise<void>,
  request: IncomingMessage,
  response: ServerResponse,
) {
  if (!hostAllowed(request, options.hosts))
    return sendError(response, "forbidden", "This server answers only to its own host names");
  // Held until every route is registered: a client polling for readiness never gets a wrong answer.
  await opened;
  const url = new URL(request.url ?? "/", "http://localhost");
  const found = matchRoute(options.routes, request.method ?? "GET", url.pathname);
  if ("route" in found) {
    if (!found.params)
      return sendError(response, "invalid_request", "The path is not validly percent-encoded");
    const body = await readBody(request);
    let iam: IamIdentity | undefined;
    if (IAM_ROUTES.has(`${found.route.method} ${found.route.path}`)) {
      iam = await iamIdentity(request, body, options.credentials?.());
      if (!iam)
        return sendError(response, "forbidden", "Sign the request (SigV4) with the local credentials");
    }
    const event = toEvent(request, found.route, found.params, body, iam);
    return writeResult(response, await found.route.handler(event));
  }
  if (found.allow.length)
    return sendError(response, "method_not_allowed", `Use ${found.allow.join(" or ")} here`, {
      allow: found.allow.join(", "),
    });
  if (!(await options.fallback?.(request, response))) sendError(response, "route_not_found", "No such route");
}

/**
 * The identity API Gateway's IAM authorizer would pass on, when the request is signed for
 * execute-api by `credentials`; undefined (refused) otherwise, and always when there are none yet.
 */
async function iamIdentity(
  request: IncomingMessage,
  body: Buffer,
  credentials: Credentials | undefined,
): Promise<IamIdentity | undefined> {
  if (!credentials) return undefined;
  const received = {
    method: request.method ?? "GET",
    url: request.url ?? "/",
    headers: request.headers,
    body,
  };
  if (await verifySigV4(received, credentials, Date.now(), { service: "execute-api" })) return undefined;
  const userId = credentials.accessKeyId;
  return {
    accessKey: credentials.accessKeyId,
    accountId: LOCAL_ACCOUNT_ID,
    callerId: userId,
    cognitoIdentity: null,
    principalOrgId: null,
    userArn: LOCAL_USER_ARN,
    userId,
  };
}

interface ApiOptions {
  port?: number;
  routes: Route[];
  fallback?: Fallback;
  /** Host names answered besides the loopback ones (the public API URL's). */
  hosts?: string[];
  /** Hold requests until `open()` is called. */
  held?: boolean;
  /** The credentials IAM routes must be signed with (read per request: they may come later);
   * without them every IAM route answers 403. */
  credentials?: () => Credentials | undefined;
}

/** Serves the routes on 127.0.0.1:`port` (0 = any free port); `fallback` may serve other paths.
 * Unknown paths answer 404 `route_not_found`, known paths with another method 405 with `Allow`. */
export async function startLocalApi(options: ApiOptions): Promise<LocalApi> {
  let open = () => {};
  const opened = options.held ? new Promise<void>((resolve) => (open = resolve)) : Promise.resolve();
  const server = createServer(async (request, response) => {
    try {
      await serve(options, opened, request, response);
    } catch (error) {
      // A handler must never throw; if one does, answer like API Gateway does.
      console.error("local API: handler threw", error instanceof Error ? error.message : error);
      if (!response.headersSent) response.writeHead(500, { "content-type": "application/json" });
      response.end(JSON.stringify({ message: "Internal Server Error" }));
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, "127.0.0.1", () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    open: () => open(),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
