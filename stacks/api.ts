/**
 * The HTTP API (payload format 2.0): exactly the routes of functions/src/routes.ts (the route table), each served by its own
 * function that is linked to, and allowed, only what its entry lists. Route throttling and JSON
 * access logs are set on the API's `$default` stage. Query strings are not logged (the access log
 * records `$context.path`), so codes and states stay out of the logs.
 *
 * Routes the table marks `iam` (the sync workers' token API) get API Gateway's IAM authorizer
 * (AWS_IAM: SigV4, `execute-api:Invoke`), and the stack renders the one policy a worker's role needs
 * to call them: `TokenApiPolicy`, output as `tokenApiPolicyArn` (docs/deploy.md).
 *
 * Optional custom domain: set API_DOMAIN (in the shell or `.env.<stage>`) to a name in a Route 53
 * zone of the account; SST creates the certificate and the DNS record.
 */
import { type HandlerAccess, type HandlerName, handlers } from "@connector-oauth/functions/routes";
import {
  dataKeyStatements,
  type Key,
  type KeyStatement,
  type Keys,
  type KeyUse,
  keyPermissions,
  restrictKeyUse,
  stateKeyStatements,
} from "./keys.ts";
import type { Settings } from "./settings.ts";
import { type Storage, tablePermissions } from "./storage.ts";

/**
 * A route without its own throttle (functions/src/routes.ts (the route table) gives each one) gets this: one request per
 * second, so a route added without sizing is conspicuous rather than open.
 */
const UNSIZED_ROUTE_THROTTLE = { ratePerSecond: 1, burst: 1 };

/** Shared with the keep-alive function (stacks/lifecycle.ts). */
export const FUNCTION_DEFAULTS = {
  runtime: "nodejs22.x",
  architecture: "arm64",
  memory: "512 MB",
  timeout: "15 seconds",
  nodejs: { minify: true },
} as const;

interface Deps {
  api: sst.aws.ApiGatewayV2;
  storage: Storage;
  keys: Keys;
  settingsLinks: Record<HandlerAccess["settings"][number], sst.Linkable<Record<string, unknown>>>;
}

/**
 * `extraKeyUses`: roles created elsewhere that each key's policy must also name (the keep-alive and
 * token consumer roles of stacks/lifecycle.ts); this module writes the key policies, which replace
 * the keys' default policies, so every user of a key must be listed here.
 */
export function createApi({
  settings,
  storage,
  keys,
  extraKeyUses,
}: {
  settings: Settings;
  storage: Storage;
  keys: Keys;
  extraKeyUses?: Partial<Record<keyof Keys, KeyUse[]>>;
}) {
  const domain = process.env.API_DOMAIN;
  // The stage's per-route settings name routes by key, and API Gateway refuses settings for a route
  // that does not exist yet: the stage waits for the routes (they do not depend on the stage).
  let routesCreated: (routes: $util.Input<$util.Resource>[]) => void = () => {};
  const routes = new Promise<$util.Input<$util.Resource>[]>((resolve) => {
    routesCreated = resolve;
  });
  const api = new sst.aws.ApiGatewayV2("Api", {
    ...(domain ? { domain } : {}),
    // Browsers call authorize, the legacy endpoint and the connectors API from the app, with a
    // bearer token; a conditional change sends If-Match with the ETag it read.
    cors: {
      allowOrigins: settings.originList,
      allowMethods: ["GET", "POST", "PUT", "DELETE"],
      allowHeaders: ["authorization", "content-type", "if-match"],
      exposeHeaders: ["etag"],
      maxAge: "1 hour",
    },
    accessLog: { retention: "1 month" },
    transform: {
      stage: (args, opts) => {
        args.defaultRouteSettings = {
          throttlingBurstLimit: UNSIZED_ROUTE_THROTTLE.burst,
          throttlingRateLimit: UNSIZED_ROUTE_THROTTLE.ratePerSecond,
        };
        args.routeSettings = Object.values(handlers).map(({ route, throttle }) => ({
          routeKey: route,
          throttlingBurstLimit: throttle.burst,
          throttlingRateLimit: throttle.ratePerSecond,
        }));
        opts.dependsOn = routes;
      },
    },
  });

  // The base URL providers redirect to. Default: the API's own URL. Passing it into the route
  // functions is not circular: the functions need the API, the API's routes need the functions,
  // but the API itself (and so its URL) does not depend on any route.
  const publicApi = new sst.Linkable("PublicApi", {
    properties: {
      url: $resolve([settings.publicApiUrl, api.url]).apply(
        ([override, own]) => override || own.replace(/\/+$/, ""),
      ),
    },
  });

  const deps: Deps = {
    api,
    storage,
    keys,
    settingsLinks: { WebApp: settings.webApp, PublicApi: publicApi, Auth: settings.auth },
  };
  const functions = (Object.keys(handlers) as HandlerName[]).map((name) =>
    createHandler(name, handlers[name], deps),
  );
  routesCreated(functions.map(({ route }) => route.nodes.route));
  const tokenApiPolicy = createTokenApiPolicy(api);
  for (const [keyName, key] of Object.entries(keys) as [keyof Keys, Key][]) {
    restrictKeyUse(key, [...keyUses(functions, key.name), ...(extraKeyUses?.[keyName] ?? [])]);
  }
  return { api, publicApi, functions, tokenApiPolicy };
}

/** The stage SST creates for an ApiGatewayV2 (its `$default`, auto-deployed). */
const STAGE = "$default";

/**
 * The execute-api ARN of a route on this API's stage: path parameters become `*`, which IAM matches
 * within a segment here (execute-api ARNs: `<api>/<stage>/<METHOD>/<path>`, API Gateway Developer
 * Guide, "Control access to an HTTP API with IAM authorization").
 */
export function routeInvokeArn(executionArn: $util.Input<string>, access: HandlerAccess) {
  const [method, path] = access.route.split(" ");
  return $interpolate`${executionArn}/${STAGE}/${method}${path?.replace(/\{\w+\}/g, "*")}`;
}

/** What a worker's role needs to call the IAM routes of this stage, and nothing else. */
function createTokenApiPolicy(api: sst.aws.ApiGatewayV2) {
  const iamRoutes = Object.values(handlers).filter((access: HandlerAccess) => access.iam === true);
  return new aws.iam.Policy("TokenApiPolicy", {
    description: `${$app.name} ${$app.stage}: call the token API (execute-api:Invoke on its route only)`,
    policy: $jsonStringify({
      Version: "2012-10-17",
      Statement: [
        {
          Effect: "Allow",
          Action: ["execute-api:Invoke"],
          Resource: iamRoutes.map((access) => routeInvokeArn(api.nodes.api.executionArn, access)),
        },
      ],
    }),
  });
}

export type Api = ReturnType<typeof createApi>;

/** The keys a handler uses, with its statements on each. */
function keyGrants(access: HandlerAccess, keys: Keys): [Key, KeyStatement[]][] {
  const grants: [Key, KeyStatement[] | undefined][] = [
    [keys.stateKey, access.stateKey && stateKeyStatements(access.stateKey)],
    [keys.dataKey, access.dataKey && dataKeyStatements(access.dataKey)],
  ];
  return grants.filter((grant): grant is [Key, KeyStatement[]] => grant[1] !== undefined);
}

function createHandler(name: HandlerName, access: HandlerAccess, deps: Deps) {
  // Our own log group, so the role can be scoped to it instead of AWSLambdaBasicExecutionRole's "*".
  const logGroup = new aws.cloudwatch.LogGroup(`${name}Logs`, {
    name: `/aws/lambda/${$app.name}/${$app.stage}/${name}`,
    retentionInDays: 30,
  });
  const grants = keyGrants(access, deps.keys);
  const fn = new sst.aws.Function(name, {
    ...FUNCTION_DEFAULTS,
    handler: access.handler,
    description: access.route,
    logging: { logGroup: logGroup.name, format: "json" },
    link: [
      deps.storage.link,
      ...grants.map(([key]) => key.link),
      ...access.settings.map((setting) => deps.settingsLinks[setting]),
    ],
    permissions: [
      ...tablePermissions(deps.storage, access.table),
      ...grants.flatMap(([key, statements]) => keyPermissions(key, statements)),
      {
        actions: ["logs:CreateLogStream", "logs:PutLogEvents"],
        resources: [$interpolate`${logGroup.arn}:*`],
      },
    ],
    // Its role's trust policy and managed policies: stacks/functions.ts, for every function.
  });
  // IAM routes: API Gateway checks the SigV4 signature and execute-api:Invoke before the function
  // runs (the function also refuses an event without that identity, so a route without it fails).
  const route = deps.api.route(access.route, fn.arn, access.iam ? { auth: { iam: true } } : undefined);
  return { name, grants, fn, route };
}

type Handler = ReturnType<typeof createHandler>;

function keyUses(functions: Handler[], keyName: Key["name"]): KeyUse[] {
  return functions.flatMap(({ name, grants, fn }) =>
    grants
      .filter(([key]) => key.name === keyName)
      .map(([, statements]) => ({
        name,
        roleArn: fn.nodes.role.arn,
        statements,
      })),
  );
}
