/**
 * Every function as `sst deploy` bundles it: sst.config.ts run under mocks (harness.ts) records
 * each function's Runtime.Build input, and the handler is bundled from it as SST 4.17.1 does, its
 * `nodejs.plugins` file run through SST's own plugin bridge (bench/bundle.ts). Each bundle is then
 * started in a fresh Node with only its own links (its resource.enc, pointed at the local
 * services) and the environment Lambda gives it, and sent the one request bench/requests.ts defines
 * for it against dynalite, the local KMS and oidc-provider (all in this process): the lean
 * credential provider must work with credentials from the environment, and fail clearly without.
 */
import { execFile } from "node:child_process";
import { createCipheriv, createDecipheriv } from "node:crypto";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { dynamoConnectorStore, kmsDataKeys } from "@connector-oauth/aws";
import { defineConnectors, providers } from "@connector-oauth/core";
import { type DemoProvider, startDemoProvider } from "@connector-oauth/demo-provider";
import { type HandlerName, handlers } from "@connector-oauth/functions/routes";
import { type LocalServices, startLocalServices } from "@connector-oauth/local";
import {
  CLIENT,
  demoConnector,
  googleWorkspaceStandIn,
  LEGACY_CLIENT,
  LEGACY_REDIRECT_URI,
  legacyConnector,
  loginAtProvider,
  popupCodeAt,
} from "@connector-oauth/test-kit";
import { SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type FunctionRequest,
  KEEP_ALIVE,
  outcomeOf,
  type RequestWorld,
  requests,
} from "../../bench/requests.ts";
import {
  DEFAULT_CHAIN_FILES,
  ENV_CREDENTIALS,
  PLUGINS_FILE,
} from "../../stacks/esbuild/lean-credentials.mjs";
import { type Build, type Deployment, deployUnderMocks, ensurePlatform, ROOT } from "./harness.ts";

const SECRETS = {
  AppOrigins: "https://app.example.com",
  AuthHs256Secret: "a-shared-hs256-secret-of-32-chars",
  AuthIssuer: "https://app.example.com",
};
/** Where the provider sends the browser back; nothing listens, the test reads the redirect. */
const PUBLIC_API_URL = "http://127.0.0.1:9";
const ROUTES = Object.keys(handlers) as HandlerName[];
const FUNCTIONS = [...ROUTES, "KeepAlive"];

let ci: Deployment;
let services: LocalServices;
let provider: DemoProvider;
let work: string;
/** Per function: the folder of its artifact as SST's build makes it, relinked to the local services. */
const artifacts = new Map<string, { dir: string; inputs: string[] }>();

beforeAll(async () => {
  ensurePlatform();
  ci = await deployUnderMocks("ci", SECRETS);
  work = mkdtempSync(join(tmpdir(), "bundled-functions-"));
  services = await startLocalServices();
  provider = await startDemoProvider({
    clients: [
      { ...CLIENT, redirectUris: [`${PUBLIC_API_URL}/connectors/oauth/callback`] },
      { ...LEGACY_CLIENT, redirectUris: [LEGACY_REDIRECT_URI], pkce: false },
    ],
  });
  await defineConnectors(
    {
      connectors: dynamoConnectorStore(services.dynamo, services.tableName),
      dataKeys: kmsDataKeys(services.kms, services.dataKeyId),
      catalog: { catalog: providers, allowLoopbackHttp: true },
    },
    [demoConnector(provider, { connectorId: "demo", orgId: "acme" }), legacyConnector()],
    "test",
    Date.now(),
  );
  for (const build of ci.builds) sstBuild(build);
}, 300_000);

afterAll(async () => {
  await provider?.close();
  await services?.close();
  if (work) rmSync(work, { recursive: true, force: true });
  if (ci) rmSync(ci.work, { recursive: true, force: true });
});

/** The function's bundle as SST built it (with its plugins file), beside its relinked resource.enc. */
function sstBuild(build: Build): void {
  const dir = join(work, build.functionID);
  cpSync(build.out, dir, { recursive: true });
  relink(dir, environmentOf(build.functionID).variables.SST_KEY ?? "");
  artifacts.set(build.functionID, { dir, inputs: build.inputs ?? [] });
}

/** The request bench/requests.ts defines for a function; a route without one fails here. */
function requestOf(name: string): FunctionRequest {
  if (name === "KeepAlive") return KEEP_ALIVE.request;
  const request = (requests as Partial<Record<string, FunctionRequest>>)[name];
  if (!request) {
    throw new Error(
      `Route ${name} (functions/src/routes.ts) has no request in bench/requests.ts: add one, so its ` +
        "deployed bundle is started and asked a real request here (and measured by the bench)",
    );
  }
  return request;
}

describe("deployed bundles", () => {
  it("are one per route of the route table, plus the keep-alive job", () => {
    expect(ci.builds.map((b) => b.functionID).sort()).toEqual([...FUNCTIONS].sort());
  });

  it("leave out the default credential chain and read credentials from the environment only", () => {
    for (const { functionID, properties } of ci.builds) {
      expect(properties, functionID).toMatchObject({ plugins: PLUGINS_FILE });
      const { inputs } = artifacts.get(functionID) ?? { inputs: [] };
      expect(
        inputs.filter((path) => DEFAULT_CHAIN_FILES.test(path)),
        functionID,
      ).toEqual([]);
      expect(inputs, functionID).toContain(ENV_CREDENTIALS.slice(ROOT.length + 1));
      expect(inputs, functionID).toContain(
        "node_modules/@aws-sdk/credential-provider-env/dist-es/fromEnv.js",
      );
    }
  });

  it.each(FUNCTIONS)(
    "%s answers its request against the local services, started with only its own links",
    async (name) => {
      const request = requestOf(name);
      const result = await invoke(name, await request.event(world));
      expect(outcomeOf(result)).toBe(request.outcome);
    },
  );

  it("fail a request with an error naming the missing environment credentials", async () => {
    const ran = await runBundle(
      "KeepAlive",
      {},
      { AWS_ACCESS_KEY_ID: undefined, AWS_SECRET_ACCESS_KEY: undefined },
    );
    expect(ran.status).not.toBe(0);
    expect(ran.stderr).toContain(
      "No AWS credentials in the environment (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)",
    );
  });
});

let users = 0;
let connected: Promise<string> | undefined;
/** The requests' world here: flows are started by the deployed Authorize bundle itself. */
const world: RequestWorld = {
  connectorId: "demo",
  legacyConnectorId: "googleWorkspace",
  adminToken: () =>
    new SignJWT({ orgId: "acme", role: "admin", email: "alice@example.com" })
      .setProtectedHeader({ alg: "HS256" })
      .setSubject(`bundled-user-${++users}`)
      .setIssuer(SECRETS.AuthIssuer)
      .setIssuedAt()
      .setExpirationTime("10m")
      .sign(new TextEncoder().encode(SECRETS.AuthHs256Secret)),
  async consentedCallback() {
    const started = await invoke("Authorize", await requestOf("Authorize").event(world));
    const { authorizationUrl } = JSON.parse(String(started.body)) as { authorizationUrl: string };
    return loginAtProvider(authorizationUrl, "alice", PUBLIC_API_URL);
  },
  popupCode: () => popupCodeAt(provider),
  definition() {
    const { createdBy: _c, ...body } = demoConnector(provider, {});
    return body;
  },
  async newConnector() {
    const connectorId = `fresh-${++users}`;
    await defineConnectors(
      {
        connectors: dynamoConnectorStore(services.dynamo, services.tableName),
        dataKeys: kmsDataKeys(services.kms, services.dataKeyId),
        catalog: { catalog: providers, allowLoopbackHttp: true },
      },
      [demoConnector(provider, { connectorId, orgId: "acme" })],
      "test",
      Date.now(),
    );
    return connectorId;
  },
  connectedConnector() {
    // Connected by the deployed Callback bundle itself, once.
    connected ??= (async () => {
      const done = await invoke("Callback", await requestOf("Callback").event(world));
      expect(outcomeOf(done)).toBe("302");
      return "demo";
    })();
    return connected;
  },
};

function environmentOf(functionID: string) {
  const fn = ci.resources.find(
    (r) => r.name === `${functionID}Function` && r.type === "aws:lambda/function:Function",
  );
  if (!fn) throw new Error(`no function ${functionID}`);
  const variables = (fn.inputs.environment as { variables: Record<string, string> }).variables;
  return { name: String(fn.inputs.name), variables };
}

/**
 * Points the artifact's links (the same names, so still only its own) at the local services:
 * resource.enc decrypted with the function's SST_KEY, values replaced, sealed again as harness.ts
 * seals it (AES-256-GCM, zero nonce, tag appended).
 */
function relink(dir: string, sstKey: string): void {
  const key = Buffer.from(sstKey, "base64");
  const sealed = readFileSync(join(dir, "resource.enc"));
  const decipher = createDecipheriv("aes-256-gcm", key, Buffer.alloc(12));
  decipher.setAuthTag(sealed.subarray(-16));
  const links = JSON.parse(
    Buffer.concat([decipher.update(sealed.subarray(0, -16)), decipher.final()]).toString(),
  );
  const local: Record<string, Record<string, string>> = {
    Table: { name: services.tableName },
    StateKey: { arn: services.stateKeyId },
    DataKey: { arn: services.dataKeyId },
    PublicApi: { url: PUBLIC_API_URL },
  };
  for (const [name, values] of Object.entries(local)) if (links[name]) Object.assign(links[name], values);
  const cipher = createCipheriv("aes-256-gcm", key, Buffer.alloc(12));
  const body = Buffer.concat([cipher.update(JSON.stringify(links)), cipher.final(), cipher.getAuthTag()]);
  writeFileSync(join(dir, "resource.enc"), body);
}

const run = promisify(execFile);

/** Imports the bundle in a fresh Node with the function's environment and invokes it once (not
 * synchronously: the services it calls run in this process). */
async function runBundle(functionID: string, event: object, env: Record<string, string | undefined> = {}) {
  const { name, variables } = environmentOf(functionID);
  const artifact = artifacts.get(functionID);
  if (!artifact) throw new Error(`no bundle for ${functionID}`);
  const script = `const { handler } = await import("./bundle.mjs");
    const result = await handler(${JSON.stringify(event)}, { getRemainingTimeInMillis: () => 300000 });
    process.stdout.write("\\nRESULT " + JSON.stringify(result) + "\\n");`;
  const environment: Record<string, string | undefined> = {
    PATH: process.env.PATH,
    ...variables,
    AWS_LAMBDA_FUNCTION_NAME: name,
    ...services.env,
    // Not links: the stand-ins are plain-HTTP loopback services, Google's is the demo provider.
    ALLOW_LOOPBACK_HTTP: "true",
    PROVIDER_OVERRIDES: JSON.stringify(googleWorkspaceStandIn(provider)),
    ...env,
  };
  for (const setting of ["TABLE_NAME", "STATE_KEY_ID", "DATA_KEY_ID"]) delete environment[setting]; // links only
  const settled = Object.fromEntries(Object.entries(environment).filter(([, v]) => v !== undefined));
  return run(process.execPath, ["--input-type=module", "-e", script], {
    cwd: artifact.dir,
    encoding: "utf8",
    timeout: 20_000,
    env: settled as NodeJS.ProcessEnv,
  }).then(
    ({ stdout, stderr }) => ({ status: 0, stdout, stderr }),
    (error: { code?: number; stdout?: string; stderr?: string }) => ({
      status: error.code ?? 1,
      stdout: error.stdout ?? "",
      stderr: error.stderr ?? String(error),
    }),
  );
}

async function invoke(functionID: string, event: object): Promise<Record<string, unknown>> {
  const ran = await runBundle(functionID, event);
  const result = ran.stdout.match(/^RESULT (.*)$/m)?.[1];
  if (ran.status !== 0 || !result) throw new Error(`${functionID}: ${ran.stderr.slice(0, 2000)}`);
  return JSON.parse(result);
}
