/**
 * One successful request per function of the route table, and the keep-alive job's invocation: the
 * table both the cold-start bench (bench/functions.ts) and test/infra/bundled-functions.test.ts
 * send to the bundled functions. `Record<HandlerName, ...>`: a route added to
 * functions/src/routes.ts does not compile until it has its request here.
 */
import { type HandlerAccess, type HandlerName, handlers } from "@connector-oauth/functions/routes";

export { outcomeOf } from "./outcome.mjs";

export type LambdaEvent = Record<string, unknown>;

/** What a request needs from the world it runs in (local services, the demo provider, connectors). */
export interface RequestWorld {
  /** Connector of the demo provider (org "acme"), for the authorization-code flow. */
  connectorId: string;
  /** Connector of the Google Workspace stand-in (org "acme"), for the legacy popup exchange. */
  legacyConnectorId: string;
  /** A bearer token of an org admin of "acme"; a new user each time, so none runs out of pending flows. */
  adminToken(): Promise<string>;
  /** The path and query the provider redirects to after a flow started at Authorize and a consent. */
  consentedCallback(): Promise<string>;
  /** A code as Google's popup flow issues it (no PKCE, the legacy client's redirect URI). */
  popupCode(): Promise<string>;
  /** A connectors-API body for a new demo-provider connector (no org or creator: the caller's). */
  definition(): Record<string, unknown>;
  /** Defines a new, unconnected demo-provider connector of "acme"; its id. */
  newConnector(): Promise<string>;
  /** The id of a connector of "acme" that holds tokens (connected once, on first use). */
  connectedConnector(): Promise<string>;
}

export interface FunctionRequest {
  /** A new event each call (a fresh user, state or code). */
  event(world: RequestWorld): Promise<LambdaEvent>;
  /** The outcome of a success (`outcomeOf`). */
  outcome: string;
}

/** A payload 2.0 event for `route` as API Gateway sends it, its path parameters filled in. */
export function routeEvent(
  route: HandlerAccess,
  options: {
    pathParameters?: Record<string, string>;
    query?: string;
    headers?: Record<string, string>;
    body?: string;
    /** The IAM principal API Gateway's IAM authorizer puts in the event (SigV4 routes). */
    iam?: { accountId: string; userArn: string };
  } = {},
): LambdaEvent {
  const [method, template = ""] = route.route.split(" ");
  const parameters = options.pathParameters ?? {};
  const rawPath = template.replace(/\{(\w+)\}/g, (_, name: string) => {
    const value = parameters[name];
    if (value === undefined) throw new Error(`${route.route}: no value for {${name}}`);
    return encodeURIComponent(value);
  });
  return {
    version: "2.0",
    routeKey: route.route,
    rawPath,
    rawQueryString: options.query ?? "",
    headers: options.headers ?? {},
    pathParameters: options.pathParameters,
    body: options.body,
    isBase64Encoded: false,
    requestContext: {
      http: { method, path: rawPath },
      ...(options.iam ? { authorizer: { iam: options.iam } } : {}),
    },
  };
}

const bearer = async (world: RequestWorld) => ({ authorization: `Bearer ${await world.adminToken()}` });

export const requests: Record<HandlerName, FunctionRequest> = {
  Authorize: {
    event: async (world) =>
      routeEvent(handlers.Authorize, {
        pathParameters: { connectorId: world.connectorId },
        headers: await bearer(world),
      }),
    outcome: "200",
  },
  // The code is exchanged at the provider, the tokens sealed and stored; then the app's page.
  Callback: {
    event: async (world) => {
      const query = new URL(await world.consentedCallback(), "http://callback").search.slice(1);
      return routeEvent(handlers.Callback, { query });
    },
    outcome: "302",
  },
  GetTokenFromCode: {
    event: async (world) =>
      routeEvent(handlers.GetTokenFromCode, {
        headers: { ...(await bearer(world)), "content-type": "application/json" },
        body: JSON.stringify({ code: await world.popupCode(), connectorId: world.legacyConnectorId }),
      }),
    outcome: "200",
  },
  // A new connector each time: its client secret sealed, one conditional write.
  ConnectorPut: {
    event: async (world) => {
      const connectorId = `bench-put-${crypto.randomUUID()}`;
      return routeEvent(handlers.ConnectorPut, {
        pathParameters: { connectorId },
        headers: { ...(await bearer(world)), "content-type": "application/json" },
        body: JSON.stringify(world.definition()),
      });
    },
    outcome: "201",
  },
  ConnectorGet: {
    event: async (world) =>
      routeEvent(handlers.ConnectorGet, {
        pathParameters: { connectorId: world.connectorId },
        headers: await bearer(world),
      }),
    outcome: "200",
  },
  ConnectorList: {
    event: async (world) => routeEvent(handlers.ConnectorList, { headers: await bearer(world) }),
    outcome: "200",
  },
  ConnectorDelete: {
    event: async (world) =>
      routeEvent(handlers.ConnectorDelete, {
        pathParameters: { connectorId: await world.newConnector() },
        headers: await bearer(world),
      }),
    outcome: "200",
  },
  // A stored token that outlives the margin: one read and one Decrypt, as most worker calls are.
  AccessToken: {
    event: async (world) =>
      routeEvent(handlers.AccessToken, {
        pathParameters: { orgId: "acme", connectorId: await world.connectedConnector() },
        iam: { accountId: "000000000000", userArn: "arn:aws:iam::000000000000:role/sync-worker" },
      }),
    outcome: "200",
  },
};

/** The keep-alive job (stacks/lifecycle.ts), not a route: its request is the schedule's invocation. */
export const KEEP_ALIVE = {
  handler: "functions/src/keep-alive.handler",
  request: { event: async () => ({}), outcome: "done" } satisfies FunctionRequest,
};
