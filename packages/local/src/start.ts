/**
 * `npm start`: the whole product on one machine (SPEC section 7). The three unmodified Lambda
 * handlers behind the local API, dynalite and the local KMS (data under DATA_DIR), the demo OAuth
 * provider with a demo connector, and the demo page. The handlers reach the local services only
 * through the standard AWS SDK settings put into process.env before they are imported.
 */
import { randomBytes } from "node:crypto";
import { pathToFileURL } from "node:url";
import {
  type ConnectorDefinition,
  callerVerifier,
  defineConnectors,
  providers,
} from "@connector-oauth/core";
import { dynamoConnectorStore, kmsDataKeys } from "@connector-oauth/aws";
import { SignJWT } from "jose";
import { type LambdaHandler, type LocalApi, type Route, startLocalApi } from "./api-server.ts";
import { ConfigError, dataDirSecret, ensureDataDir, type LocalConfig, loadLocalConfig } from "./config.ts";
import { DEMO_SCOPES, type DemoProvider, startDemoProvider } from "./demo-provider.ts";
import { demoPage } from "./demo-page.ts";
import { type LocalServices, startLocalServices } from "./services.ts";

export const DEMO_ORG = "demo";
export const DEMO_ADMIN = "dev-admin";
export const DEMO_CONNECTOR = "demo";
const DEMO_CLIENT_ID = "demo-client";
const DEV_TOKEN_TTL = "30d";

export interface LocalMode {
  apiUrl: string;
  /** The public API base URL (what the provider redirects to): http://localhost:<port> by default. */
  publicApiUrl: string;
  providerUrl: string;
  dynamodbUrl: string;
  kmsUrl: string;
  dataDir: string;
  appOrigins: string[];
  devToken: string;
  /** The settings that point the AWS SDK and the operator CLI at the local services. */
  cliEnv: Record<string, string>;
  services: LocalServices;
  provider: DemoProvider;
  close(): Promise<void>;
}

/** Mints a dev JWT the handlers accept (HS256, PipesHub's claims). */
export async function mintDevToken(
  secret: string,
  claims: { sub: string; orgId: string; admin: boolean; email?: string },
  ttl = DEV_TOKEN_TTL,
  env: Record<string, string | undefined> = process.env,
): Promise<string> {
  const { sub, orgId, admin, email } = claims;
  const jwt = new SignJWT({ orgId, email, role: admin ? "admin" : "member" })
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setSubject(sub)
    .setIssuedAt()
    .setExpirationTime(ttl);
  if (env.AUTH_ISSUER) jwt.setIssuer(env.AUTH_ISSUER);
  if (env.AUTH_AUDIENCE) jwt.setAudience(env.AUTH_AUDIENCE);
  return jwt.sign(new TextEncoder().encode(secret));
}

/** Turns "port in use" into a message naming the setting; other errors pass through. */
function explainListenError(error: unknown, names: Record<number, string>): never {
  const { code, port } = error as { code?: string; port?: number };
  const name = (port !== undefined && names[port]) || "a port";
  if (code === "EADDRINUSE") throw new ConfigError(`${name} ${port} is already in use (set ${name} to a free port)`);
  if (code === "EACCES") throw new ConfigError(`${name} ${port} cannot be opened (permission denied)`);
  throw error;
}

function demoConnector(provider: DemoProvider, clientSecret: string): ConnectorDefinition {
  return {
    ...{ connectorId: DEMO_CONNECTOR, orgId: DEMO_ORG, provider: "oauth2", scope: "team", createdBy: DEMO_ADMIN },
    ...{ name: "Demo provider", clientId: DEMO_CLIENT_ID, clientSecret, scopes: DEMO_SCOPES },
    endpoints: {
      ...{ authorizationUrl: provider.authorizationUrl, tokenUrl: provider.tokenUrl },
      ...{ revocationUrl: provider.revocationUrl, issuer: provider.issuer, pkce: true },
    },
  };
}

async function importHandlers(): Promise<Record<string, LambdaHandler>> {
  const [authorize, callback, legacy] = await Promise.all([
    import("../../../functions/src/authorize.ts"),
    import("../../../functions/src/callback.ts"),
    import("../../../functions/src/get-token-from-code.ts"),
  ]);
  return { authorize: authorize.handler, callback: callback.handler, legacy: legacy.handler };
}

/** Starts everything; on any failure stops what already started and rethrows. */
export async function startLocalMode(config: LocalConfig): Promise<LocalMode> {
  const stops: (() => Promise<void>)[] = [];
  const close = async () => {
    await Promise.allSettled(stops.splice(0).reverse().map((stop) => stop()));
  };
  try {
    return await assemble(config, stops, close);
  } catch (error) {
    await close();
    throw error;
  }
}

async function assemble(config: LocalConfig, stops: (() => Promise<void>)[], close: () => Promise<void>): Promise<LocalMode> {
  await ensureDataDir(config.dataDir);
  const secret = config.hs256Secret ?? ((await dataDirSecret(config.dataDir, true)) as string);
  const portNames = {
    [config.port]: "PORT",
    [config.demoProviderPort]: "DEMO_PROVIDER_PORT",
    [config.dynamodbPort]: "DYNAMODB_PORT",
    [config.kmsPort]: "KMS_PORT",
  };
  const routes: Route[] = [];
  let fallback: ReturnType<typeof demoPage> | undefined;
  const api: LocalApi = await startLocalApi({ port: config.port, routes, fallback: (q, s) => fallback?.(q, s) ?? false }).catch(
    (error) => explainListenError(error, portNames),
  );
  stops.push(api.close);
  const publicApiUrl = config.publicApiUrl ?? `http://localhost:${api.port}`;
  const demoOrigin = new URL(publicApiUrl).origin;
  const appOrigins = config.appOrigins ? [...new Set([...config.appOrigins, demoOrigin])] : [demoOrigin];
  const clientSecret = randomBytes(24).toString("base64url");
  const redirectUri = `${publicApiUrl}/connectors/oauth/callback`;
  const started = await Promise.allSettled([
    startLocalServices({ dataDir: config.dataDir, dynamodbPort: config.dynamodbPort, kmsPort: config.kmsPort }),
    startDemoProvider({ port: config.demoProviderPort, clients: [{ clientId: DEMO_CLIENT_ID, clientSecret, redirectUris: [redirectUri] }] }),
  ]);
  for (const result of started) if (result.status === "fulfilled") stops.push(result.value.close);
  const [services, provider] = started.map((result) => {
    if (result.status === "rejected") explainListenError(result.reason, portNames);
    return result.value;
  }) as [LocalServices, DemoProvider];
  Object.assign(process.env, services.env, {
    ...{ APP_ORIGINS: appOrigins.join(","), PUBLIC_API_URL: publicApiUrl, AUTH_HS256_SECRET: secret },
    ...{ SUCCESS_PATH: config.successPath, ERROR_PATH: config.errorPath, ALLOW_LOOPBACK_HTTP: "true" },
  });
  const handlers = await importHandlers();
  const connectors = dynamoConnectorStore(services.dynamo, services.tableName);
  const catalog = { catalog: providers, allowLoopbackHttp: true };
  const deps = { connectors, dataKeys: kmsDataKeys(services.kms, services.dataKeyId), catalog };
  await defineConnectors(deps, [demoConnector(provider, clientSecret), ...config.definitions], "local-mode", Date.now());
  const devToken = await mintDevToken(secret, { sub: DEMO_ADMIN, orgId: DEMO_ORG, admin: true, email: "dev-admin@example.com" });
  const endpoints = {
    "API": publicApiUrl,
    "Callback (redirect URI)": redirectUri,
    "Demo provider": provider.issuer,
    "DynamoDB": services.dynamodbUrl,
    "KMS": services.kmsUrl,
  };
  const verifyCaller = callerVerifier({ hs256Secret: secret, issuer: process.env.AUTH_ISSUER, audience: process.env.AUTH_AUDIENCE });
  fallback = demoPage({ connectors, verifyCaller, devToken, appOrigin: demoOrigin, endpoints });
  routes.push(
    { method: "GET", path: "/connectors/{connectorId}/oauth/authorize", handler: handlers.authorize as LambdaHandler },
    { method: "GET", path: "/connectors/oauth/callback", handler: handlers.callback as LambdaHandler },
    { method: "POST", path: "/connectors/getTokenFromCode", handler: handlers.legacy as LambdaHandler },
  );
  const cliEnv = { ...services.env, AUTH_HS256_SECRET: secret };
  return {
    ...{ apiUrl: api.url, publicApiUrl, providerUrl: provider.issuer, dynamodbUrl: services.dynamodbUrl },
    ...{ kmsUrl: services.kmsUrl, dataDir: config.dataDir, appOrigins, devToken, cliEnv, services, provider, close },
  };
}

function banner(local: LocalMode, config: LocalConfig, readyMs: number): string {
  const api = local.publicApiUrl;
  const fileNote = config.connectorsFile ? ` + ${config.definitions.length} from ${config.connectorsFile}` : "";
  const cliEnv = ["AWS_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_ENDPOINT_URL_DYNAMODB", "AWS_ENDPOINT_URL_KMS", "TABLE_NAME", "DATA_KEY_ID", "AUTH_HS256_SECRET"]
    .map((name) => `${name}=${local.cliEnv[name]}`)
    .join(" ");
  return [
    `connector-oauth local mode ready in ${readyMs} ms`,
    "",
    `  Demo page      ${api}/`,
    `  API            ${api}   (listening on ${local.apiUrl})`,
    `    authorize    GET  ${api}/connectors/{connectorId}/oauth/authorize`,
    `    callback     GET  ${api}/connectors/oauth/callback`,
    `    legacy       POST ${api}/connectors/getTokenFromCode`,
    `  Demo provider  ${local.providerUrl}   (sign in with any name and password)`,
    `  DynamoDB       ${local.dynamodbUrl}   table ${local.services.tableName}`,
    `  KMS            ${local.kmsUrl}   state key ${local.services.stateKeyId}`,
    `                 data key ${local.services.dataKeyId}`,
    `  App origins    ${local.appOrigins.join(", ")}`,
    `  Data folder    ${local.dataDir}`,
    `  Connectors     ${DEMO_CONNECTOR} (org ${DEMO_ORG})${fileNote}`,
    "",
    `Dev admin token (org ${DEMO_ORG}, user ${DEMO_ADMIN}, valid ${DEV_TOKEN_TTL}):`,
    `  ${local.devToken}`,
    "",
    "Try:",
    `  curl -H "Authorization: Bearer ${local.devToken}" ${api}/connectors/${DEMO_CONNECTOR}/oauth/authorize`,
    "Operator CLI against these services (or add --local):",
    `  ${cliEnv} npx connector-oauth list --org ${DEMO_ORG}`,
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

async function main(): Promise<void> {
  let local: LocalMode;
  let config: LocalConfig;
  try {
    config = await loadLocalConfig(process.env);
    local = await startLocalMode(config);
  } catch (error) {
    reportFailure(error);
    process.exit(1);
  }
  console.log(banner(local, config, Math.round(performance.now())));
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) process.exit(130); // a second Ctrl-C does not wait
    stopping = true;
    const started = performance.now();
    setTimeout(() => process.exit(1), 5_000).unref();
    await local.close();
    console.log(`\n${signal}: stopped in ${Math.round(performance.now() - started)} ms`);
    process.exit(0);
  };
  process.on("SIGINT", () => void stop("SIGINT"));
  process.on("SIGTERM", () => void stop("SIGTERM"));
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
