/**
 * What the cold-start bench measures. The functions are not listed here: every route of the route
 * table (functions/src/routes.ts) and the keep-alive job get their rows, bundled as deployed (with
 * the plugins file stacks/functions.ts gives every function) and sent the requests of
 * bench/requests.ts. Around them: the bare KMS client baseline of every ratio, the same client
 * bundled like the functions, the peer (Grant) and the import shares of three libraries.
 */
import { type HandlerName, handlers } from "@connector-oauth/functions/routes";
import {
  demoConnector,
  googleWorkspaceStandIn,
  type Harness,
  legacyConnector,
  loginAtProvider,
  popupCode,
  startHarness,
} from "@connector-oauth/test-kit";
import { PLUGINS_FILE as LEAN_CREDENTIALS_PLUGINS } from "../stacks/esbuild/lean-credentials.mjs";
import { handlerFile } from "./bundle.ts";
import {
  type FunctionRequest,
  KEEP_ALIVE,
  type LambdaEvent,
  type RequestWorld,
  requests,
} from "./requests.ts";

export interface World extends RequestWorld {
  h: Harness;
  /** The environment of every measured process (settings, the services' endpoints, credentials). */
  env: Record<string, string>;
}

export interface Subject {
  name: string;
  /** From the repository root. */
  entry: string;
  /** The `nodejs.plugins` file it is bundled with; none: as AWS ships it. */
  plugins?: string;
  /** A deployed function: its ratio is held to the target. */
  function?: boolean;
  /** Absent: measured at import only (a library's import share). */
  request?: Pick<FunctionRequest, "outcome"> & { event(world: World): Promise<LambdaEvent> };
}

export const CONNECTOR = "bench-demo";
export const LEGACY_CONNECTOR = "googleWorkspace";

/** The baseline's request: one KMS GenerateMac (bench/baseline-kms.ts). */
const BASELINE_REQUEST = { event: async () => ({}), outcome: "200" };

export const FLOOR = "floor: one KMS GenerateMac signed and sent without the SDK";

/** Index of the lean bare client in SUBJECTS: the functions' largest parts are counted over it. */
export const LEAN_BASELINE = 1;

const functionSubjects: Subject[] = [
  ...(Object.keys(handlers) as HandlerName[]).map((name) => ({
    name,
    entry: handlerFile(handlers[name].handler),
    plugins: LEAN_CREDENTIALS_PLUGINS,
    function: true,
    request: requests[name],
  })),
  {
    name: "KeepAlive",
    entry: handlerFile(KEEP_ALIVE.handler),
    plugins: LEAN_CREDENTIALS_PLUGINS,
    function: true,
    request: KEEP_ALIVE.request,
  },
];

export const SUBJECTS: Subject[] = [
  // First: the baseline of every ratio, the KMS client as AWS ships it (default credential chain).
  { name: "baseline: bare @aws-sdk/client-kms", entry: "bench/baseline-kms.ts", request: BASELINE_REQUEST },
  // Second (LEAN_BASELINE): the same client bundled as the functions are.
  {
    name: "bare @aws-sdk/client-kms, lean credentials",
    entry: "bench/baseline-kms.ts",
    plugins: LEAN_CREDENTIALS_PLUGINS,
    request: BASELINE_REQUEST,
  },
  {
    name: "peer: grant 5.4.24 AWS Lambda handler",
    entry: "bench/peer-grant.ts",
    request: {
      event: async () => ({
        version: "2.0",
        rawPath: "/connect/demo",
        rawQueryString: "",
        headers: {},
        isBase64Encoded: false,
        requestContext: { http: { method: "GET", path: "/connect/demo" } },
      }),
      outcome: "302",
    },
  },
  // What one AWS call costs without the SDK's pipeline (bench/floor-http.ts): the CPU floor.
  { name: FLOOR, entry: "bench/floor-http.ts", request: BASELINE_REQUEST },
  ...functionSubjects,
  // Import shares: three libraries the functions keep (the issue asks for each one's share), and
  // what lazy loading could save (docs/benchmark.md, "Levers").
  { name: "alone: an empty module (the fixed cost of any import)", entry: "bench/parts/empty.ts" },
  { name: "alone: jose (jwtVerify, createRemoteJWKSet)", entry: "bench/parts/jose.ts" },
  { name: "alone: oauth4webapi (all of it)", entry: "bench/parts/oauth4webapi.ts" },
  { name: "alone: @aws-lambda-powertools/logger", entry: "bench/parts/powertools-logger.ts" },
  { name: "alone: the providers catalog", entry: "bench/parts/catalog.ts" },
  { name: "alone: node:http as an ES module (undici with it)", entry: "bench/parts/node-http.ts" },
  {
    name: "alone: DynamoDB client, lean credentials",
    entry: "bench/parts/dynamodb-client.ts",
    plugins: LEAN_CREDENTIALS_PLUGINS,
  },
  {
    name: "alone: DynamoDB and KMS clients, lean credentials",
    entry: "bench/parts/dynamodb-kms-clients.ts",
    plugins: LEAN_CREDENTIALS_PLUGINS,
  },
];

/** The local services, the demo provider and the connectors every subject's requests use. */
export async function startWorld(): Promise<World> {
  const h = await startHarness({ overrides: googleWorkspaceStandIn, env: { POWERTOOLS_LOG_LEVEL: "WARN" } });
  await h.define([demoConnector(h.provider, { connectorId: CONNECTOR, orgId: "acme" }), legacyConnector()]);
  let users = 0;
  let connected: Promise<string> | undefined;
  const adminToken = () => h.token({ sub: `bench-user-${++users}`, orgId: "acme", role: "admin" });
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(h.env)) if (value !== undefined) env[name] = value;
  env.POWERTOOLS_LOG_LEVEL = "WARN";
  env.GRANT_AUTHORIZE_URL = h.provider.authorizationUrl;
  env.GRANT_ACCESS_URL = h.provider.tokenUrl;
  // Started through the in-process handlers (not measured), consented at the provider.
  async function consentedCallback() {
    const started = await fetch(`${h.api.url}/connectors/${CONNECTOR}/oauth/authorize`, {
      headers: { authorization: `Bearer ${await adminToken()}` },
    });
    if (started.status !== 200) throw new Error(`authorize for a callback event: HTTP ${started.status}`);
    const { authorizationUrl } = (await started.json()) as { authorizationUrl: string };
    return loginAtProvider(authorizationUrl, "alice", h.callbackUrl);
  }
  return {
    h,
    env,
    connectorId: CONNECTOR,
    legacyConnectorId: LEGACY_CONNECTOR,
    adminToken,
    consentedCallback,
    popupCode: () => popupCode(h),
    definition: () => {
      const { createdBy: _c, ...body } = demoConnector(h.provider, {});
      return body;
    },
    async newConnector() {
      const connectorId = `bench-fresh-${crypto.randomUUID()}`;
      await h.define([demoConnector(h.provider, { connectorId, orgId: "acme" })]);
      return connectorId;
    },
    connectedConnector() {
      connected ??= (async () => {
        const callback = await fetch(await consentedCallback(), { redirect: "manual" });
        if (callback.status !== 302) throw new Error(`connecting for the token API: HTTP ${callback.status}`);
        return CONNECTOR;
      })();
      return connected;
    },
  };
}
