/**
 * The whole API as a set of route handlers, for hosts other than Lambda (local mode, tests): each
 * route of the route table built from its factory with its own dependencies, composed from the
 * environment-like map given (never `process.env`), wrapped in the same Lambda adapter as deployed.
 */
import type { Env } from "@connector-oauth/config";
import type { Log } from "@connector-oauth/core";
import { compose, type EndpointFactory } from "./composition.ts";
import { type LambdaHandler, lambdaHandler } from "./edge/lambda.ts";
import { accessToken } from "./endpoints/access-token.ts";
import { authorize } from "./endpoints/authorize.ts";
import { callback } from "./endpoints/callback.ts";
import { deleteConnector, getConnector, listConnectors, putConnector } from "./endpoints/connectors.ts";
import { getTokenFromCode } from "./endpoints/get-token-from-code.ts";
import { type HandlerName, handlers, methodAndPath, needsOf } from "./routes.ts";

/** Every route's handler factory: the compiler refuses a route of the table without one. */
export const endpoints: Record<HandlerName, EndpointFactory> = {
  Authorize: authorize,
  Callback: callback,
  GetTokenFromCode: getTokenFromCode,
  ConnectorPut: putConnector,
  ConnectorGet: getConnector,
  ConnectorList: listConnectors,
  ConnectorDelete: deleteConnector,
  AccessToken: accessToken,
};

export interface AppRoute {
  name: HandlerName;
  method: string;
  /** API Gateway route path, e.g. /connectors/{connectorId}/oauth/authorize */
  path: string;
  handler: LambdaHandler;
}

/** Builds every route's Lambda handler from `env`; throws a ConfigError naming a bad setting. */
export function appRoutes(env: Env, log?: Log): AppRoute[] {
  return (Object.keys(handlers) as HandlerName[]).map((name) => {
    const deps = compose(env, needsOf(handlers[name]), log);
    const { method, path } = methodAndPath(handlers[name]);
    return { name, method, path, handler: lambdaHandler(endpoints[name](deps), deps.log) };
  });
}

export { json, STATUS } from "./edge/http.ts";
export type { LambdaHandler } from "./edge/lambda.ts";
export { keepAliveJob } from "./jobs/keep-alive.ts";
export { type HandlerName, handlers } from "./routes.ts";
