/**
 * IAM evaluated, not asserted: the policies `sst.config.ts` renders under the Pulumi mocks
 * (test/infra/harness.ts) against the AWS calls the real handlers make (test/infra/aws-calls.ts),
 * decided by @cloud-copilot/iam-simulate (test/infra/simulate.ts).
 * - every call each function (and a token consumer) makes in a connect, a replayed and a forged
 *   callback, a legacy exchange, a keep-alive run with a refresh, the token API serving a refreshed
 *   and a stored token, a worker's refresh and disconnect, and every case of the fault matrix (the
 *   retries, read-backs and settlements only failures reach), is Allowed: a function that starts a
 *   call no policy allows fails here;
 * - every grant is used by some recorded call: a grant the code no longer needs fails here too;
 * - the calls each role must not make are Denied, and no one but Lambda (or the named workers) can
 *   become a role;
 * - the worker policy the stack outputs (TokenApiPolicy) allows invoking the token API's route of
 *   this stage only;
 * - the "what each role may do" table in docs/deploy.md is this simulation's result.
 */
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { UpdateItemCommand } from "@aws-sdk/client-dynamodb";
import { marshall } from "@aws-sdk/util-dynamodb";
import { awsTokenAccess } from "@connector-oauth/aws";
import { workerSettings } from "@connector-oauth/config";
import { keepAliveJob } from "@connector-oauth/functions";
import { nonceOf, runCase, STEPS, startFaultEnv } from "@connector-oauth/functions/test/fault-matrix";
import { FAULT_KINDS } from "@connector-oauth/functions/test/fault-proxy";
import { signSigV4 } from "@connector-oauth/local";
import {
  authorize,
  callCallback,
  consent,
  demoConnector,
  googleWorkspaceStandIn,
  type Harness,
  legacyConnector,
  popupCode,
  startHarness,
} from "@connector-oauth/test-kit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type AwsCall,
  type IamRequest,
  installRecorder,
  recordAs,
  recordedCalls,
  toRequest,
} from "./aws-calls.ts";
import { ACCOUNT, type Deployment, deployUnderMocks, ensurePlatform, REGION, ROOT } from "./harness.ts";
import {
  ALLOW_EVERYTHING,
  assume,
  type Decision,
  decide,
  decideAs,
  keyPoliciesOf,
  type Role,
  rolesOf,
} from "./simulate.ts";

const SECRETS = {
  AppOrigins: "https://app.example.com",
  AuthHs256Secret: "a-shared-hs256-secret-of-32-chars",
};
const WORKER_ROLE = `arn:aws:iam::${ACCOUNT}:role/sync-worker`;
const FUNCTIONS = [
  "Authorize",
  "Callback",
  "GetTokenFromCode",
  "AccessToken",
  "ConnectorPut",
  "ConnectorGet",
  "ConnectorList",
  "ConnectorDelete",
  "KeepAlive",
] as const;
/** The product's functions, and a sync worker running as the token consumer role. */
const CALLERS = [...FUNCTIONS, "TokenConsumer"] as const;
type Caller = (typeof CALLERS)[number];

let ci: Deployment;
let named: Deployment;
let h: Harness;
let roles: Record<string, Role>;
let keyPolicies: ReturnType<typeof keyPoliciesOf>;
let tableArn: string;
let stateKeyArn: string;
let dataKeyArn: string;
/** The fault matrix's local key ids (exerciseFaults), mapped to the deployed keys. */
let faultKeys: Record<string, string> = {};

beforeAll(async () => {
  ensurePlatform();
  ci = await deployUnderMocks("ci", SECRETS);
  named = await deployUnderMocks("ci", { ...SECRETS, TokenConsumerPrincipals: WORKER_ROLE });
  roles = rolesOf(ci);
  keyPolicies = keyPoliciesOf(ci);
  tableArn = String(
    ci.outputs.tableName && `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/${ci.outputs.tableName}`,
  );
  stateKeyArn = String(ci.outputs.stateKeyArn);
  dataKeyArn = String(ci.outputs.dataKeyArn);
  installRecorder();
  h = await startHarness({ overrides: googleWorkspaceStandIn });
  await h.define([demoConnector(h.provider, { connectorId: "iam-demo", orgId: "acme" }), legacyConnector()]);
  await exercise();
  await exerciseFaults();
}, 300_000);

afterAll(async () => {
  await h?.close();
  for (const deployment of [ci, named])
    if (deployment) rmSync(deployment.work, { recursive: true, force: true });
});

/** An hour-long token obtained 59 minutes ago, as time passing would leave it. */
async function ageToken(connectorId: string) {
  const set = (field: string, at: number) =>
    h.services.dynamo.send(
      new UpdateItemCommand({
        TableName: h.services.tableName,
        Key: marshall({ pk: "ORG#acme", sk: `CONNECTOR#${connectorId}` }),
        UpdateExpression: "SET tokens.#field = :at",
        ExpressionAttributeNames: { "#field": field },
        ExpressionAttributeValues: marshall({ ":at": new Date(at).toISOString() }),
      }),
    );
  await set("obtainedAt", Date.now() - 59 * 60_000);
  await set("expiresAt", Date.now() + 60_000);
}

/**
 * What only failures reach: every case of the fault matrix (functions/test/support/fault-matrix.ts,
 * `npm run faults`), with DynamoDB, KMS and the provider behind fault proxies: the SDK's retries,
 * the read-backs after a lost reply, the settlement of flows left exchanging, the retries within the
 * callback's budget. Each request is recorded as the function it goes to.
 */
async function exerciseFaults() {
  const env = await startFaultEnv();
  // Its own local services: their keys stand for the deployed ones too.
  faultKeys = { [env.h.services.stateKeyId]: stateKeyArn, [env.h.services.dataKeyId]: dataKeyArn };
  try {
    for (const step of STEPS) for (const fault of FAULT_KINDS) await runCase(env, step, fault, recordAs);
  } finally {
    await env.close();
  }
}

/** What the product does with AWS, through the real handler modules and the worker library. */
async function exercise() {
  const admin = await h.token({ sub: "alice", orgId: "acme", role: "admin", email: "alice@example.com" });
  // A connect, its replay (which reads the connector: the account its flow stored), and a forged
  // state.
  const started = await recordAs("Authorize", () => authorize(h, "iam-demo", admin));
  expect(started.status).toBe(200);
  const callbackUrl = await consent(h, String(started.body.authorizationUrl));
  for (let i = 0; i < 2; i++) {
    const done = await recordAs("Callback", () => callCallback(callbackUrl));
    expect(done.headers.get("location")).not.toContain("oauth_error");
  }
  // A flow whose callback died after consuming it (its lease is over, no tokens stored): a repeated
  // callback settles it, reading the connector to learn that no tokens were stored.
  const stuck = await authorize(h, "iam-demo", admin);
  const stuckUrl = await consent(h, String(stuck.body.authorizationUrl));
  await h.flows.consume(nonceOf(String(stuck.body.state)), "dead-holder", Date.now() - 31_000, 30_000);
  const settled = await recordAs("Callback", () => callCallback(stuckUrl));
  expect(settled.headers.get("location")).toContain("oauth_error=token_exchange_failed");
  // A user who holds the most pending flows: the next authorize reads the flows of its slots
  // (consistent GetItems) before refusing with 429 (packages/aws/src/dynamo.ts).
  const busy = await h.token({ sub: "carol", orgId: "acme", role: "admin", email: "carol@example.com" });
  for (let i = 0; i < 20; i++) expect((await authorize(h, "iam-demo", busy)).status).toBe(200);
  expect((await recordAs("Authorize", () => authorize(h, "iam-demo", busy))).status).toBe(429);
  const forged = new URL(callbackUrl);
  forged.searchParams.set("state", `${forged.searchParams.get("state")?.slice(0, -2)}AA`);
  expect((await recordAs("Callback", () => callCallback(forged.href))).status).toBe(400);
  // The legacy exchange.
  const code = await popupCode(h);
  const legacy = await recordAs("GetTokenFromCode", () =>
    fetch(`${h.api.url}/connectors/getTokenFromCode`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${admin}` },
      body: JSON.stringify({ code }),
    }),
  );
  expect(legacy.status).toBe(200);
  // A keep-alive run that refreshes one token.
  await ageToken("iam-demo");
  const keepAlive = keepAliveJob(h.env);
  const summary = await recordAs("KeepAlive", () =>
    keepAlive({}, { getRemainingTimeInMillis: () => 300_000 }),
  );
  expect(summary).toMatchObject({ refreshed: 1, failed: 0 });
  // The token API: a token about to expire (refreshed under the lease), then the stored one.
  await ageToken("iam-demo");
  const refreshed = await recordAs("AccessToken", () => callTokenApi("acme", "iam-demo"));
  expect(refreshed.status).toBe(200);
  expect((await recordAs("AccessToken", () => callTokenApi("acme", "iam-demo"))).status).toBe(200);
  // A sync worker: a refresh (the token expires within its margin) and a disconnect.
  const worker = awsTokenAccess(
    { dynamo: h.services.dynamo, kms: h.services.kms },
    workerSettings({ ...h.services.env, ALLOW_LOOPBACK_HTTP: "true" }),
    { now: () => Date.now() + 3600_000 - 2 * 60_000 },
  );
  await recordAs("TokenConsumer", () => worker.getAccessToken("acme", "iam-demo"));
  await recordAs("TokenConsumer", () => worker.disconnect("acme", "iam-demo", "operator"));
  // The connectors API: create (seals the client secret), read, list, then delete a connected
  // connector (revokes at the provider under the lease, removes the tokens, deletes the definition).
  const manage = (method: string, path: string, body?: unknown) =>
    fetch(`${h.api.url}${path}`, {
      method,
      headers: { "content-type": "application/json", authorization: `Bearer ${admin}` },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  const { createdBy: _c, ...definition } = demoConnector(h.provider, {
    endpoints: {
      authorizationUrl: h.provider.authorizationUrl,
      tokenUrl: h.provider.tokenUrl,
      issuer: h.provider.issuer,
      revocationUrl: h.provider.revocationUrl,
    },
  });
  const put = await recordAs("ConnectorPut", () => manage("PUT", "/connectors/iam-api", definition));
  expect(put.status).toBe(201);
  expect((await recordAs("ConnectorGet", () => manage("GET", "/connectors/iam-api"))).status).toBe(200);
  expect((await recordAs("ConnectorList", () => manage("GET", "/connectors"))).status).toBe(200);
  const flow = await authorize(h, "iam-api", admin);
  expect((await callCallback(await consent(h, String(flow.body.authorizationUrl)))).status).toBe(302);
  const deleted = await recordAs("ConnectorDelete", () => manage("DELETE", "/connectors/iam-api"));
  expect(await deleted.json()).toMatchObject({ deleted: true, revocation: "revoked" });
}

/** POSTs to the token API signed (SigV4, execute-api) with the local credentials, as a worker does. */
async function callTokenApi(orgId: string, connectorId: string) {
  const url = `${h.api.url}/internal/orgs/${orgId}/connectors/${connectorId}/access-token`;
  const { host: _host, ...headers } = await signSigV4({ method: "POST", url }, h.services.credentials, {
    region: REGION,
    service: "execute-api",
  });
  return fetch(url, { method: "POST", headers });
}

const deployed = () => ({
  tableArn,
  keys: { [h.services.stateKeyId]: stateKeyArn, [h.services.dataKeyId]: dataKeyArn, ...faultKeys },
});

const functionArnOf = (name: string) =>
  `arn:aws:lambda:${REGION}:${ACCOUNT}:function:connector-oauth-ci-${name}`;

/** What Lambda adds to a request made with a function's credentials from inside that function. */
function fromInside(caller: string, request: IamRequest): IamRequest {
  if (!(FUNCTIONS as readonly string[]).includes(caller)) return request;
  return { ...request, context: { ...request.context, "lambda:SourceFunctionArn": functionArnOf(caller) } };
}

/** Each caller's distinct IAM requests, as AWS sees them (from inside the function for functions). */
function requestsOf(caller: Caller): IamRequest[] {
  const seen = new Map<string, IamRequest>();
  for (const call of recordedCalls().filter((c: AwsCall) => c.caller === caller)) {
    const request = fromInside(caller, toRequest(call, deployed()));
    seen.set(JSON.stringify(request), request);
  }
  return [...seen.values()];
}

const describeRequest = (r: IamRequest) => `${r.action} ${JSON.stringify(r.context)}`;

describe("IAM, evaluated", () => {
  it("allows every AWS call each function and a token consumer actually make", async () => {
    const operations: Record<string, string[]> = {};
    const refused: string[] = [];
    for (const caller of CALLERS) {
      const requests = requestsOf(caller);
      operations[caller] = [...new Set(requests.map((r) => r.action))].sort();
      for (const request of requests) {
        const decision = await decideAs(roles[caller] as Role, request, keyPolicies);
        if (decision !== "Allowed") refused.push(`${caller}: ${describeRequest(request)} -> ${decision}`);
      }
    }
    expect(refused).toEqual([]);
    // What was exercised (a phase that stopped making its calls would pass the check above vacuously).
    expect(operations).toEqual({
      Authorize: ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "kms:GenerateMac"],
      Callback: [
        "dynamodb:GetItem",
        "dynamodb:UpdateItem",
        "kms:Decrypt",
        "kms:GenerateDataKey",
        "kms:VerifyMac",
      ],
      GetTokenFromCode: ["dynamodb:GetItem", "dynamodb:UpdateItem", "kms:Decrypt", "kms:GenerateDataKey"],
      AccessToken: [
        "dynamodb:DeleteItem",
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "kms:Decrypt",
        "kms:GenerateDataKey",
      ],
      ConnectorPut: ["dynamodb:GetItem", "dynamodb:UpdateItem", "kms:GenerateDataKey"],
      ConnectorGet: ["dynamodb:GetItem"],
      ConnectorList: ["dynamodb:Query"],
      ConnectorDelete: [
        "dynamodb:DeleteItem",
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "kms:Decrypt",
      ],
      KeepAlive: [
        "dynamodb:DeleteItem",
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:Scan",
        "dynamodb:UpdateItem",
        "kms:Decrypt",
        "kms:GenerateDataKey",
      ],
      TokenConsumer: [
        "dynamodb:DeleteItem",
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "kms:Decrypt",
        "kms:GenerateDataKey",
      ],
    });
  });

  it("uses every grant: each allowed action, key prefix and purpose is needed by a recorded call", () => {
    const unused: string[] = [];
    for (const caller of CALLERS) {
      const requests = requestsOf(caller);
      for (const { policy } of (roles[caller] as Role).identity) {
        for (const statement of policy.Statement as Record<string, unknown>[]) {
          for (const action of statement.Action as string[]) {
            if (action.startsWith("logs:")) continue; // written by Lambda itself, not by the code
            for (const scope of scopesOf(statement)) {
              if (!requests.some((r) => r.action === action && inScope(r, scope))) {
                unused.push(`${caller}: ${action} ${scope ?? ""}`.trim());
              }
            }
          }
        }
      }
    }
    expect(unused).toEqual([]);
  });

  it("denies each role the calls it must not make", async () => {
    const allowed: string[] = [];
    for (const [caller, probe] of MUST_DENY) {
      const decision = await probeAs(caller, probe);
      if (decision === "Allowed") allowed.push(`${caller}: ${probe}`);
    }
    expect(allowed).toEqual([]);
  });

  it("refuses a function's credentials used outside that function, even for the calls it makes", async () => {
    const allowed: string[] = [];
    for (const name of FUNCTIONS) {
      for (const request of requestsOf(name)) {
        const { "lambda:SourceFunctionArn": _, ...elsewhere } = request.context;
        const outside = await decideAs(roles[name] as Role, { ...request, context: elsewhere }, keyPolicies);
        const inAnother = await decideAs(
          roles[name] as Role,
          { ...request, context: { ...elsewhere, "lambda:SourceFunctionArn": functionArnOf("Other") } },
          keyPolicies,
        );
        if (outside === "Allowed" || inAnother === "Allowed")
          allowed.push(`${name}: ${describeRequest(request)}`);
      }
    }
    expect(allowed).toEqual([]);
  });

  it("lets only Lambda of this account, for that function, become a function's role", async () => {
    for (const name of FUNCTIONS) {
      const role = roles[name] as Role;
      const own = functionArnOf(name);
      const other = functionArnOf("Other");
      const account = { "aws:SourceAccount": ACCOUNT };
      const decisions = {
        lambda: await assume(role, "lambda.amazonaws.com", { ...account, "aws:SourceArn": own }),
        lambdaWithoutSourceArn: await assume(role, "lambda.amazonaws.com", account),
        lambdaForAnotherFunction: await assume(role, "lambda.amazonaws.com", {
          ...account,
          "aws:SourceArn": other,
        }),
        lambdaOfAnotherAccount: await assume(role, "lambda.amazonaws.com", {
          "aws:SourceAccount": "210987654321",
        }),
        lambdaWithoutSourceAccount: await assume(role, "lambda.amazonaws.com", {}),
        accountRoot: await assume(role, `arn:aws:iam::${ACCOUNT}:root`, {}, ALLOW_EVERYTHING),
        adminUser: await assume(role, `arn:aws:iam::${ACCOUNT}:user/admin`, {}, ALLOW_EVERYTHING),
        anotherService: await assume(role, "ecs-tasks.amazonaws.com", account),
      };
      expect(decisions, name).toEqual({
        lambda: "Allowed",
        lambdaWithoutSourceArn: "Allowed",
        lambdaForAnotherFunction: "ImplicitlyDenied",
        lambdaOfAnotherAccount: "ImplicitlyDenied",
        lambdaWithoutSourceAccount: "ImplicitlyDenied",
        accountRoot: "ImplicitlyDenied",
        adminUser: "ImplicitlyDenied",
        anotherService: "ImplicitlyDenied",
      });
    }
  });

  it("lets only EventBridge Scheduler of this account become the keep-alive schedule's role", async () => {
    const role = roles.KeepAliveSchedule as Role;
    expect({
      scheduler: await assume(role, "scheduler.amazonaws.com", { "aws:SourceAccount": ACCOUNT }),
      schedulerOfAnotherAccount: await assume(role, "scheduler.amazonaws.com", {
        "aws:SourceAccount": "210987654321",
      }),
      accountRoot: await assume(role, `arn:aws:iam::${ACCOUNT}:root`, {}, ALLOW_EVERYTHING),
      lambda: await assume(role, "lambda.amazonaws.com", { "aws:SourceAccount": ACCOUNT }),
    }).toEqual({
      scheduler: "Allowed",
      schedulerOfAnotherAccount: "ImplicitlyDenied",
      accountRoot: "ImplicitlyDenied",
      lambda: "ImplicitlyDenied",
    });
  });

  it("lets workers of this account run as the token consumer role, and only the named principals assume it", async () => {
    const role = roles.TokenConsumer as Role;
    const withNames = rolesOf(named).TokenConsumer as Role;
    const account = { "aws:SourceAccount": ACCOUNT };
    const worker = [{ name: "worker", policy: statementAllowing("sts:AssumeRole", role.arn) }];
    expect({
      lambda: await assume(role, "lambda.amazonaws.com", account),
      ecsTask: await assume(role, "ecs-tasks.amazonaws.com", account),
      lambdaOfAnotherAccount: await assume(role, "lambda.amazonaws.com", {
        "aws:SourceAccount": "210987654321",
      }),
      accountRoot: await assume(role, `arn:aws:iam::${ACCOUNT}:root`, {}, ALLOW_EVERYTHING),
      adminUser: await assume(role, `arn:aws:iam::${ACCOUNT}:user/admin`, {}, ALLOW_EVERYTHING),
      workerRoleUnnamed: await assume(
        role,
        `${WORKER_ROLE.replace(":role/", ":assumed-role/").replace(":iam:", ":sts:")}/s`,
        {},
        worker,
      ),
      workerRoleNamed: await assume(
        withNames,
        `${WORKER_ROLE.replace(":role/", ":assumed-role/").replace(":iam:", ":sts:")}/s`,
        {},
        worker,
      ),
      otherRoleWhenNamed: await assume(
        withNames,
        `arn:aws:sts::${ACCOUNT}:assumed-role/other/s`,
        {},
        ALLOW_EVERYTHING,
      ),
    }).toEqual({
      lambda: "Allowed",
      ecsTask: "Allowed",
      lambdaOfAnotherAccount: "ImplicitlyDenied",
      accountRoot: "ImplicitlyDenied",
      adminUser: "ImplicitlyDenied",
      workerRoleUnnamed: "ImplicitlyDenied",
      workerRoleNamed: "Allowed",
      otherRoleWhenNamed: "ImplicitlyDenied",
    });
  });

  it("lets a worker holding TokenApiPolicy invoke the token route of this stage only", async () => {
    const policy = ci.resources.find(
      (r) => r.type === "aws:iam/policy:Policy" && r.name === "TokenApiPolicy",
    );
    const identity = [{ name: "TokenApiPolicy", policy: JSON.parse(String(policy?.inputs.policy)) }];
    const worker = `arn:aws:sts::${ACCOUNT}:assumed-role/sync-worker/session`;
    const api = `arn:aws:execute-api:${REGION}:${ACCOUNT}:ApiApi-id`;
    const invoke = (resource: string) =>
      decide(worker, identity, { action: "execute-api:Invoke", resource, context: {} });
    expect({
      tokenRoute: await invoke(`${api}/$default/POST/internal/orgs/acme/connectors/drive/access-token`),
      tokenRouteOtherMethod: await invoke(
        `${api}/$default/GET/internal/orgs/acme/connectors/drive/access-token`,
      ),
      authorizeRoute: await invoke(`${api}/$default/GET/connectors/drive/oauth/authorize`),
      legacyRoute: await invoke(`${api}/$default/POST/connectors/getTokenFromCode`),
      otherStage: await invoke(`${api}/prod/POST/internal/orgs/acme/connectors/drive/access-token`),
      otherApi: await invoke(
        `arn:aws:execute-api:${REGION}:${ACCOUNT}:OtherApi-id/$default/POST/internal/orgs/acme/connectors/drive/access-token`,
      ),
    }).toEqual({
      tokenRoute: "Allowed",
      tokenRouteOtherMethod: "ImplicitlyDenied",
      authorizeRoute: "ImplicitlyDenied",
      legacyRoute: "ImplicitlyDenied",
      otherStage: "ImplicitlyDenied",
      otherApi: "ImplicitlyDenied",
    });
    // Nothing else: no table, key or other action.
    expect(
      await decide(worker, identity, { action: "dynamodb:GetItem", resource: tableArn, context: {} }),
    ).toBe("ImplicitlyDenied");
  });

  it("renders docs/deploy.md's table of what each role may do from this simulation", async () => {
    const table = await roleTable();
    const file = join(ROOT, "docs/deploy.md");
    const section = (doc: string) => doc.split(TABLE_START)[1]?.split(TABLE_END)[0];
    const doc = readFileSync(file, "utf8");
    expect(section(doc), "docs/deploy.md has the role-table markers").toBeDefined();
    // WRITE_ROLE_TABLE=1 regenerates it (then `npx biome format --write docs/deploy.md` pads it);
    // the comparison below still runs.
    if (process.env.WRITE_ROLE_TABLE === "1") {
      writeFileSync(
        file,
        doc.replace(`${TABLE_START}${section(doc)}${TABLE_END}`, `${TABLE_START}\n${table}${TABLE_END}`),
      );
    }
    expect(cells(section(readFileSync(file, "utf8")) ?? "")).toEqual(cells(table));
  });
});

/** What a probe means: sample requests on another org's items, or on the keys. */
const PROBES = {
  "read a connector (`GetItem` on `ORG#`)": () => item("GetItem", "ORG#other-org"),
  "update a connector (`UpdateItem` on `ORG#`)": () => item("UpdateItem", "ORG#other-org"),
  "create or replace an `ORG#` item (`PutItem`)": () => item("PutItem", "ORG#other-org"),
  "delete an `ORG#` item (`DeleteItem`)": () => item("DeleteItem", "ORG#other-org"),
  "list an org's items (`Query` on `ORG#`)": () => item("Query", "ORG#other-org"),
  "read a flow (`GetItem` on `FLOW#`)": () => item("GetItem", "FLOW#nonce"),
  "create a flow (`PutItem` on `FLOW#`)": () => item("PutItem", "FLOW#nonce"),
  "update a flow (`UpdateItem` on `FLOW#`)": () => item("UpdateItem", "FLOW#nonce"),
  "scan the table (`Scan`)": () => ({ action: "dynamodb:Scan", resource: tableArn, context: {} }),
  "sign a state (`GenerateMac`)": () => mac("GenerateMac"),
  "verify a state (`VerifyMac`)": () => mac("VerifyMac"),
  "open a client secret (`Decrypt`, purpose `client-secret`)": () => envelope("Decrypt", "client-secret"),
  "open tokens (`Decrypt`, purpose `tokens`)": () => envelope("Decrypt", "tokens"),
  "seal tokens (`GenerateDataKey`, purpose `tokens`)": () => envelope("GenerateDataKey", "tokens"),
  "seal a client secret (`GenerateDataKey`, purpose `client-secret`)": () =>
    envelope("GenerateDataKey", "client-secret"),
  "use the data key without an encryption context (`Decrypt`)": () => ({
    action: "kms:Decrypt",
    resource: dataKeyArn,
    context: {},
  }),
} satisfies Record<string, () => IamRequest>;
type Probe = keyof typeof PROBES;

const item = (operation: string, pk: string): IamRequest => ({
  action: `dynamodb:${operation}`,
  resource: tableArn,
  context: { "dynamodb:LeadingKeys": [pk] },
});
const mac = (operation: string): IamRequest => ({
  action: `kms:${operation}`,
  resource: stateKeyArn,
  context: { "kms:MacAlgorithm": "HMAC_SHA_256" },
});
const envelope = (operation: string, purpose: string): IamRequest => ({
  action: `kms:${operation}`,
  resource: dataKeyArn,
  context: {
    "kms:EncryptionContextKeys": ["orgId", "connectorId", "purpose", "config"],
    "kms:EncryptionContext:orgId": "other-org",
    "kms:EncryptionContext:connectorId": "c1",
    "kms:EncryptionContext:purpose": purpose,
    "kms:EncryptionContext:config": "digest",
  },
});

/** The deny matrix (issue 11, point 3) and what follows from it. */
const MUST_DENY: [Caller | "AccountAdmin", Probe][] = [
  ...(
    [
      "seal tokens (`GenerateDataKey`, purpose `tokens`)",
      "open a client secret (`Decrypt`, purpose `client-secret`)",
      "open tokens (`Decrypt`, purpose `tokens`)",
      "update a connector (`UpdateItem` on `ORG#`)",
      "create or replace an `ORG#` item (`PutItem`)",
      "list an org's items (`Query` on `ORG#`)",
      // Reading flows is allowed: a full slot map's flows are read, and a flow write whose reply
      // was lost is read back (docs/reliability.md). It gives nothing authorize does not already
      // hold: it wrote the flow, and it can sign states anyway.
      "scan the table (`Scan`)",
    ] satisfies Probe[]
  ).map((p) => ["Authorize", p] as [Caller, Probe]),
  ...(
    [
      "sign a state (`GenerateMac`)",
      "open tokens (`Decrypt`, purpose `tokens`)",
      "seal a client secret (`GenerateDataKey`, purpose `client-secret`)",
      "create or replace an `ORG#` item (`PutItem`)",
      "delete an `ORG#` item (`DeleteItem`)",
      "create a flow (`PutItem` on `FLOW#`)",
      "scan the table (`Scan`)",
    ] satisfies Probe[]
  ).map((p) => ["Callback", p] as [Caller, Probe]),
  ...(
    [
      "sign a state (`GenerateMac`)",
      "verify a state (`VerifyMac`)",
      "open tokens (`Decrypt`, purpose `tokens`)",
      "read a flow (`GetItem` on `FLOW#`)",
      "create or replace an `ORG#` item (`PutItem`)",
    ] satisfies Probe[]
  ).map((p) => ["GetTokenFromCode", p] as [Caller, Probe]),
  ...(["AccessToken", "KeepAlive", "TokenConsumer"] as const).flatMap((caller) =>
    (
      [
        "read a flow (`GetItem` on `FLOW#`)",
        "create a flow (`PutItem` on `FLOW#`)",
        "update a flow (`UpdateItem` on `FLOW#`)",
        "sign a state (`GenerateMac`)",
        "verify a state (`VerifyMac`)",
        "seal a client secret (`GenerateDataKey`, purpose `client-secret`)",
        "use the data key without an encryption context (`Decrypt`)",
      ] satisfies Probe[]
    ).map((p) => [caller, p] as [Caller, Probe]),
  ),
  ...(["AccessToken", "TokenConsumer"] as const).map(
    (caller) => [caller, "scan the table (`Scan`)"] as [Caller, Probe],
  ),
  // The connectors API: connector items only, no state key, no flows; nothing but DELETE opens a
  // secret and nothing but PUT seals one (client secrets only); GET and list cannot write.
  ...(["ConnectorPut", "ConnectorGet", "ConnectorList", "ConnectorDelete"] as const).flatMap((caller) =>
    (
      [
        "read a flow (`GetItem` on `FLOW#`)",
        "create a flow (`PutItem` on `FLOW#`)",
        "update a flow (`UpdateItem` on `FLOW#`)",
        "sign a state (`GenerateMac`)",
        "verify a state (`VerifyMac`)",
        "seal tokens (`GenerateDataKey`, purpose `tokens`)",
        "scan the table (`Scan`)",
        "use the data key without an encryption context (`Decrypt`)",
      ] satisfies Probe[]
    ).map((p) => [caller, p] as [Caller, Probe]),
  ),
  ...(["ConnectorPut", "ConnectorGet", "ConnectorList"] as const).flatMap((caller) =>
    (
      [
        "open a client secret (`Decrypt`, purpose `client-secret`)",
        "open tokens (`Decrypt`, purpose `tokens`)",
        "delete an `ORG#` item (`DeleteItem`)",
        "create or replace an `ORG#` item (`PutItem`)",
      ] satisfies Probe[]
    ).map((p) => [caller, p] as [Caller, Probe]),
  ),
  ...(["ConnectorGet", "ConnectorList"] as const).flatMap((caller) =>
    (
      [
        "update a connector (`UpdateItem` on `ORG#`)",
        "seal a client secret (`GenerateDataKey`, purpose `client-secret`)",
      ] satisfies Probe[]
    ).map((p) => [caller, p] as [Caller, Probe]),
  ),
  ["ConnectorGet", "list an org's items (`Query` on `ORG#`)"],
  ["ConnectorList", "read a connector (`GetItem` on `ORG#`)"],
  ["ConnectorDelete", "seal a client secret (`GenerateDataKey`, purpose `client-secret`)"],
  // Administering the keys is not using them: an account admin with `*` cannot open or sign.
  ...(
    [
      "sign a state (`GenerateMac`)",
      "open a client secret (`Decrypt`, purpose `client-secret`)",
      "open tokens (`Decrypt`, purpose `tokens`)",
      "seal tokens (`GenerateDataKey`, purpose `tokens`)",
    ] satisfies Probe[]
  ).map((p) => ["AccountAdmin", p] as ["AccountAdmin", Probe]),
];

function probeAs(caller: Caller | "AccountAdmin", probe: Probe): Promise<Decision> {
  const request = PROBES[probe]();
  if (caller === "AccountAdmin") {
    return decide(
      `arn:aws:iam::${ACCOUNT}:user/admin`,
      ALLOW_EVERYTHING,
      request,
      keyPolicies[request.resource],
    );
  }
  return decideAs(roles[caller] as Role, fromInside(caller, request), keyPolicies);
}

/** A statement's scopes: its leading-key patterns, its purposes, or one unscoped entry. */
function scopesOf(statement: Record<string, unknown>): (string | undefined)[] {
  const condition = (statement.Condition ?? {}) as Record<string, Record<string, string[]>>;
  const keys = condition["ForAllValues:StringLike"]?.["dynamodb:LeadingKeys"];
  const purposes = condition.StringEquals?.["kms:EncryptionContext:purpose"];
  return keys ?? purposes ?? [undefined];
}

function inScope(request: IamRequest, scope: string | undefined): boolean {
  if (scope === undefined) return true;
  const keys = request.context["dynamodb:LeadingKeys"];
  if (Array.isArray(keys)) return keys.every((key) => key.startsWith(scope.replace(/\*$/, "")));
  return request.context["kms:EncryptionContext:purpose"] === scope;
}

function statementAllowing(action: string, resource: string) {
  return { Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: action, Resource: resource }] };
}

const TABLE_START = "<!-- role-table:start (generated by test/infra/iam.test.ts) -->";
const TABLE_END = "<!-- role-table:end -->";
const COLUMNS: [Caller | "AccountAdmin", string][] = [
  ["Authorize", "Authorize"],
  ["Callback", "Callback"],
  ["GetTokenFromCode", "GetTokenFromCode"],
  ["AccessToken", "AccessToken"],
  ["ConnectorPut", "ConnectorPut"],
  ["ConnectorGet", "ConnectorGet"],
  ["ConnectorList", "ConnectorList"],
  ["ConnectorDelete", "ConnectorDelete"],
  ["KeepAlive", "KeepAlive"],
  ["TokenConsumer", "token consumer"],
  ["AccountAdmin", "account admin (`*`)"],
];

/** A markdown table's cells, whatever its padding (the formatter aligns the columns). */
function cells(table: string): string[][] {
  return table
    .trim()
    .split("\n")
    .map((line) =>
      line
        .split("|")
        .slice(1, -1)
        .map((cell) => cell.trim().replace(/^(:?)-+(:?)$/, "$1-$2")),
    );
}

/** Markdown: a row per probe, a column per role, "yes" where the simulation allows it. */
async function roleTable(): Promise<string> {
  const lines = [
    `| may it ... | ${COLUMNS.map(([, title]) => title).join(" | ")} |`,
    `| --- | ${COLUMNS.map(() => ":-:").join(" | ")} |`,
  ];
  for (const probe of Object.keys(PROBES) as Probe[]) {
    const cells: string[] = [];
    for (const [caller] of COLUMNS) cells.push((await probeAs(caller, probe)) === "Allowed" ? "yes" : "-");
    lines.push(`| ${probe} | ${cells.join(" | ")} |`);
  }
  return `${lines.join("\n")}\n`;
}
