/**
 * `npm start`: the whole product on one machine. Every route of the route table, built by the same
 * factories and wrapped in the same Lambda adapter as deployed, behind the local API; dynalite and
 * the local KMS (data under DATA_DIR), the demo OAuth provider with a demo connector, and the demo
 * page. The handlers get their settings as a map (the standard AWS SDK settings pointing at the
 * local services, and the stage settings below), never through process.env.
 */
import { randomBytes } from "node:crypto";
import { pathToFileURL } from "node:url";
import { dynamoConnectorStore, kmsDataKeys } from "@connector-oauth/aws";
import { ConfigError, hostOf } from "@connector-oauth/config";
import { type ConnectorDefinition, callerVerifier, defineConnectors, providers } from "@connector-oauth/core";
import { DEMO_SCOPES, type DemoProvider, startDemoProvider } from "@connector-oauth/demo-provider";
import { appRoutes } from "@connector-oauth/functions";
import { type LocalApi, type Route, startLocalApi } from "./api-server.ts";
import {
  claimDataDir,
  DEFAULT_DATA_DIR,
  DEFAULT_PORT,
  dataDirSecret,
  ensureDataDir,
  type LocalConfig,
  loadLocalConfig,
  mintDevToken,
} from "./config.ts";
import { demoPage } from "./demo-page.ts";
import { type LocalServices, startLocalServices } from "./services.ts";

export const DEMO_ORG = "demo";
export const DEMO_ADMIN = "dev-admin";
export const DEMO_CONNECTOR = "demo";
const DEMO_CLIENT_ID = "demo-client";

export interface LocalMode {
  /** Where the API listens (127.0.0.1). */
  apiUrl: string;
  /** The public API base URL (what the provider redirects to): http://localhost:<port> by default. */
  publicApiUrl: string;
  providerUrl: string;
  dataDir: string;
  appOrigins: string[];
  devToken: string;
  /** The settings that point the AWS SDK and the operator CLI at the local services. */
  cliEnv: Record<string, string>;
  services: LocalServices;
  provider: DemoProvider;
  close(): Promise<void>;
}

type Stops = (() => Promise<void>)[];

/** Turns "port in use" into a message naming the setting; other errors pass through. */
function explainListenError(error: unknown, config: LocalConfig): never {
  const { code, port } = error as { code?: string; port?: number };
  const names: Record<number, string> = {
    [config.port]: "PORT",
    [config.demoProviderPort]: "DEMO_PROVIDER_PORT",
    [config.dynamodbPort]: "DYNAMODB_PORT",
    [config.kmsPort]: "KMS_PORT",
  };
  const name = (port !== undefined && names[port]) || "a port";
  if (code === "EADDRINUSE")
    throw new ConfigError(name, `${name} ${port} is already in use (set ${name} to a free port)`);
  if (code === "EACCES") throw new ConfigError(name, `${name} ${port} cannot be opened (permission denied)`);
  throw error;
}

function demoConnector(provider: DemoProvider, clientSecret: string): ConnectorDefinition {
  return {
    connectorId: DEMO_CONNECTOR,
    orgId: DEMO_ORG,
    provider: "oauth2",
    scope: "team",
    createdBy: DEMO_ADMIN,
    name: "Demo provider",
    clientId: DEMO_CLIENT_ID,
    clientSecret,
    scopes: DEMO_SCOPES,
    endpoints: {
      authorizationUrl: provider.authorizationUrl,
      tokenUrl: provider.tokenUrl,
      revocationUrl: provider.revocationUrl,
      issuer: provider.issuer,
      pkce: true,
      // oidc-provider sends iss (RFC 9207) and serves OpenID Connect UserInfo at /me.
      sendsIss: true,
      userinfoUrl: `${provider.issuer}/me`,
    },
  };
}

/** Host names the local servers answer to besides the loopback ones: the public API URL's. */
const publicHosts = (config: LocalConfig) => (config.publicApiUrl ? [hostOf(config.publicApiUrl)] : []);

/** Starts the local AWS services and the demo provider side by side; both are stopped on failure. */
async function startBackends(config: LocalConfig, redirectUri: string, clientSecret: string, stops: Stops) {
  const started = await Promise.allSettled([
    startLocalServices({
      dataDir: config.dataDir,
      dynamodbPort: config.dynamodbPort,
      kmsPort: config.kmsPort,
    }),
    startDemoProvider({
      port: config.demoProviderPort,
      clients: [{ clientId: DEMO_CLIENT_ID, clientSecret, redirectUris: [redirectUri] }],
    }),
  ]);
  for (const result of started) if (result.status === "fulfilled") stops.push(result.value.close);
  for (const result of started) if (result.status === "rejected") explainListenError(result.reason, config);
  const [services, provider] = started as [
    PromiseFulfilledResult<LocalServices>,
    PromiseFulfilledResult<DemoProvider>,
  ];
  return { services: services.value, provider: provider.value };
}

/** The handlers' stage configuration, local flavour: loopback http allowed, demo page as the app. */
function handlerSettings(config: LocalConfig, publicApiUrl: string, appOrigins: string[], secret: string) {
  return {
    APP_ORIGINS: appOrigins.join(","),
    PUBLIC_API_URL: publicApiUrl,
    AUTH_HS256_SECRET: secret,
    SUCCESS_PATH: config.successPath,
    ERROR_PATH: config.errorPath,
    ALLOW_LOOPBACK_HTTP: "true",
  };
}

/** Starts everything; on any failure stops what already started and rethrows. */
export async function startLocalMode(config: LocalConfig): Promise<LocalMode> {
  const stops: Stops = [];
  // Last started, first stopped: the API stops taking requests before the services go away.
  const close = async () => {
    for (const stop of stops.splice(0).reverse()) await stop().catch(() => {});
  };
  try {
    return { ...(await assemble(config, stops)), close };
  } catch (error) {
    await close();
    throw error;
  }
}

async function assemble(config: LocalConfig, stops: Stops): Promise<Omit<LocalMode, "close">> {
  await ensureDataDir(config.dataDir);
  stops.push(await claimDataDir(config.dataDir));
  const secret = config.hs256Secret ?? ((await dataDirSecret(config.dataDir, true)) as string);
  // The API listens first, so that PORT=0 can pick the port the other URLs are built from; it
  // holds every request until the routes below are in place.
  const routes: Route[] = [];
  let fallback: ReturnType<typeof demoPage> | undefined;
  let backends: Awaited<ReturnType<typeof startBackends>> | undefined;
  const api: LocalApi = await startLocalApi({
    port: config.port,
    routes,
    fallback: (q, s) => fallback?.(q, s) ?? false,
    // IAM routes (the token API) check SigV4 against the data folder's local credentials.
    credentials: () => backends?.services.credentials,
    hosts: publicHosts(config),
    held: true,
  }).catch((error) => explainListenError(error, config));
  stops.push(api.close);
  const publicApiUrl = config.publicApiUrl ?? `http://localhost:${api.port}`;
  const demoOrigin = new URL(publicApiUrl).origin;
  const appOrigins = [...new Set([...(config.appOrigins ?? []), demoOrigin])];
  const clientSecret = randomBytes(24).toString("base64url");
  const redirectUri = `${publicApiUrl}/connectors/oauth/callback`;
  backends = await startBackends(config, redirectUri, clientSecret, stops);
  const { services, provider } = backends;
  // The shell's settings reach the handlers (MAX_PENDING_FLOWS, AUTH_ISSUER, ...), but the local
  // services and the stage settings of local mode take precedence.
  const handlers = appRoutes({
    ...config.env,
    ...services.env,
    ...handlerSettings(config, publicApiUrl, appOrigins, secret),
  });
  const connectors = dynamoConnectorStore(services.dynamo, services.tableName);
  const deps = { connectors, dataKeys: kmsDataKeys(services.kms, services.dataKeyId) };
  const definitions = [demoConnector(provider, clientSecret), ...config.definitions];
  await defineConnectors(
    { ...deps, catalog: { catalog: providers, allowLoopbackHttp: true } },
    definitions,
    "local-mode",
    Date.now(),
  );
  const devToken = await mintDevToken(
    secret,
    { sub: DEMO_ADMIN, orgId: DEMO_ORG, admin: true, email: "dev-admin@example.com" },
    config.devTokenTtl,
    config.env,
  );
  const { AUTH_ISSUER: issuer, AUTH_AUDIENCE: audience } = config.env;
  const endpoints = {
    API: publicApiUrl,
    "Callback (redirect URI)": redirectUri,
    "Demo provider": provider.issuer,
    DynamoDB: services.dynamodbUrl,
    KMS: services.kmsUrl,
  };
  const verifyCaller = callerVerifier({ hs256Secret: secret, issuer, audience });
  const cliPrefix = cliSettings(services, config.dataDir);
  const accessTokenCommand = `${cliPrefix}npx connector-oauth access-token {id} --org ${DEMO_ORG} --local`;
  fallback = demoPage({
    connectors,
    verifyCaller,
    devToken,
    appOrigin: demoOrigin,
    endpoints,
    accessTokenCommand,
  });
  routes.push(...handlers);
  api.open();
  return {
    apiUrl: api.url,
    publicApiUrl,
    providerUrl: provider.issuer,
    dataDir: config.dataDir,
    appOrigins,
    devToken,
    cliEnv: { ...services.env, AUTH_HS256_SECRET: secret },
    services,
    provider,
  };
}

/** What the CLI's --local needs to find these services, when they are not at the defaults. */
function cliSettings(services: LocalServices, dataDir: string): string {
  const settings: string[] = [];
  const dynamodbPort = new URL(services.dynamodbUrl).port;
  const kmsPort = new URL(services.kmsUrl).port;
  if (dynamodbPort !== String(DEFAULT_PORT + 2)) settings.push(`DYNAMODB_PORT=${dynamodbPort}`);
  if (kmsPort !== String(DEFAULT_PORT + 3)) settings.push(`KMS_PORT=${kmsPort}`);
  if (dataDir !== DEFAULT_DATA_DIR) settings.push(`DATA_DIR=${dataDir}`);
  return settings.map((setting) => `${setting} `).join("");
}

function banner(local: LocalMode, config: LocalConfig, readyMs: number): string {
  const api = local.publicApiUrl;
  const { services } = local;
  const fromFile = config.connectorsFile
    ? ` + ${config.definitions.length} from ${config.connectorsFile}`
    : "";
  const awsEnv = [
    "AWS_ENDPOINT_URL_DYNAMODB",
    "AWS_ENDPOINT_URL_KMS",
    "AWS_REGION",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
  ];
  return [
    `connector-oauth local mode ready in ${readyMs} ms`,
    "",
    `  Demo page      ${api}/`,
    `  API            ${api}   (listening on ${local.apiUrl})`,
    `    authorize    GET  ${api}/connectors/{connectorId}/oauth/authorize`,
    `    callback     GET  ${api}/connectors/oauth/callback   (the redirect URI to register)`,
    `    legacy       POST ${api}/connectors/getTokenFromCode`,
    `    connectors   PUT, GET, DELETE ${api}/connectors/{connectorId}; GET ${api}/connectors   (bearer JWT)`,
    `    token API    POST ${api}/internal/orgs/{orgId}/connectors/{connectorId}/access-token   (SigV4, service execute-api, the credentials below)`,
    `  Demo provider  ${local.providerUrl}   (sign in with any name and any password)`,
    `  DynamoDB       ${services.dynamodbUrl}   table ${services.tableName}`,
    `  KMS            ${services.kmsUrl}   keys alias/connector-oauth-state, alias/connector-oauth-data`,
    `  App origins    ${local.appOrigins.join(", ")}`,
    `  Data folder    ${local.dataDir}`,
    `  Connectors     ${DEMO_CONNECTOR} (org ${DEMO_ORG})${fromFile}`,
    "",
    `Dev admin token (org ${DEMO_ORG}, user ${DEMO_ADMIN}, valid ${config.devTokenTtl}; DEV_TOKEN_TTL sets it):`,
    `  ${local.devToken}`,
    "",
    "Try:",
    `  curl -H "Authorization: Bearer ${local.devToken}" ${api}/connectors/${DEMO_CONNECTOR}/oauth/authorize`,
    `  ${cliSettings(local.services, local.dataDir)}npx connector-oauth list --org ${DEMO_ORG} --local`,
    "Any AWS tool reaches the local services with:",
    `  ${awsEnv.map((name) => `${name}=${local.cliEnv[name]}`).join(" ")}`,
    "",
    "Ctrl-C stops everything.",
  ].join("\n");
}

/** Prints a failure as one line; a stack only for errors nobody anticipated, and only with DEBUG. */
function reportFailure(error: unknown): void {
  const message = error instanceof Error ? error.message : String(error);
  const kind = error instanceof ConfigError ? "configuration error" : "failed";
  console.error(`connector-oauth local mode: ${kind}: ${message}`);
  if (!(error instanceof ConfigError) && process.env.DEBUG) console.error(error);
}

/** Stops everything once on SIGINT or SIGTERM; a second signal, or a stop that hangs, exits anyway. */
function stopOnSignals(local: LocalMode): void {
  let stopping = false;
  const stop = async (signal: NodeJS.Signals) => {
    if (stopping) process.exit(130);
    stopping = true;
    const started = performance.now();
    setTimeout(() => process.exit(1), 5_000).unref();
    await local.close();
    console.log(`\n${signal}: stopped in ${Math.round(performance.now() - started)} ms`);
    process.exit(0);
  };
  for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => void stop(signal));
}

async function main(): Promise<void> {
  let local: LocalMode;
  let config: LocalConfig;
  try {
    config = await loadLocalConfig(process.env);
    // Everything local mode writes (LevelDB files included) is private to its owner.
    process.umask(0o077);
    local = await startLocalMode(config);
  } catch (error) {
    reportFailure(error);
    process.exit(1);
  }
  stopOnSignals(local);
  // performance.now() counts from process start: this is the whole startup, imports included.
  console.log(banner(local, config, Math.round(performance.now())));
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
