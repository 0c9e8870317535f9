/**
 * sst.config.ts and stacks/, run the way `sst deploy` runs them (test/infra/harness.ts), offline.
 * Expectations are written out here, not read from stacks/handlers.ts, so a change there shows up.
 */
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  ACCOUNT,
  type Deployment,
  deployUnderMocks,
  ensurePlatform,
  REGION,
  type Recorded,
  ROOT,
  renderSstEnv,
} from "./harness.ts";

const SECRETS = {
  AppOrigins: "https://app.example.com,https://admin.example.com",
  AuthHs256Secret: "a-shared-hs256-secret-of-32-chars",
  AuthIssuer: "https://app.example.com",
};
const TABLE_ARN = `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/connector-oauth-ci`;
const STATE_KEY_ARN = `arn:aws:kms:${REGION}:${ACCOUNT}:key/StateKeyKms-id`;
const DATA_KEY_ARN = `arn:aws:kms:${REGION}:${ACCOUNT}:key/DataKeyKms-id`;
const API_URL = `https://ApiApi-id.execute-api.${REGION}.amazonaws.com`;
const logStreams = (name: string) =>
  `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:/aws/lambda/connector-oauth/ci/${name}:*`;

const MAC_CONDITION = { StringEquals: { "kms:MacAlgorithm": ["HMAC_SHA_256"] } };
const CONTEXT_CONDITION = {
  "ForAllValues:StringEquals": { "kms:EncryptionContextKeys": ["orgId", "connectorId", "purpose"] },
  Null: {
    "kms:EncryptionContextKeys": ["false"],
    "kms:EncryptionContext:orgId": ["false"],
    "kms:EncryptionContext:connectorId": ["false"],
  },
  StringEquals: { "kms:EncryptionContext:purpose": ["client-secret", "tokens"] },
};
const allow = (Action: string[], Resource: string[], Condition?: object) => ({
  Effect: "Allow",
  Action,
  Resource,
  ...(Condition ? { Condition } : {}),
});

let ci: Deployment;
let production: Deployment;

beforeAll(async () => {
  ensurePlatform();
  ci = await deployUnderMocks("ci", SECRETS);
  production = await deployUnderMocks("production", {
    ...SECRETS,
    PublicApiUrl: "https://connect.example.com/",
  });
}, 300_000);

afterAll(() => {
  for (const deployment of [ci, production]) {
    if (deployment) rmSync(deployment.work, { recursive: true, force: true });
  }
});

function all(deployment: Deployment, type: string): Recorded[] {
  return deployment.resources.filter((resource) => resource.type === type);
}

function one(deployment: Deployment, type: string, name: string): Recorded {
  const found = all(deployment, type).find((resource) => resource.name === name);
  if (!found) throw new Error(`no ${type} named ${name}`);
  return found;
}

function inlinePolicy(role: Recorded): { Statement: Record<string, unknown>[] } {
  const policies = role.inputs.inlinePolicies as { policy: string }[];
  expect(policies).toHaveLength(1);
  return JSON.parse(policies[0]?.policy ?? "{}");
}

function keyPolicy(name: string): { Statement: Record<string, unknown>[] } {
  return JSON.parse(String(one(ci, "aws:kms/keyPolicy:KeyPolicy", name).inputs.policy));
}

describe("sst.config.ts", () => {
  it("creates exactly the three routes, each a payload 2.0 Lambda proxy, when deployed", () => {
    const routes = all(ci, "aws:apigatewayv2/route:Route").map((route) => route.inputs.routeKey);
    expect(routes.sort()).toEqual([
      "GET /connectors/oauth/callback",
      "GET /connectors/{connectorId}/oauth/authorize",
      "POST /connectors/getTokenFromCode",
    ]);
    const integrations = all(ci, "aws:apigatewayv2/integration:Integration");
    expect(integrations.map((i) => [i.inputs.integrationType, i.inputs.payloadFormatVersion])).toEqual([
      ["AWS_PROXY", "2.0"],
      ["AWS_PROXY", "2.0"],
      ["AWS_PROXY", "2.0"],
    ]);
    const targets = integrations.map((i) => String(i.state.integrationUri));
    const functions = all(ci, "aws:lambda/function:Function").map((f) => f.state.arn);
    expect(new Set(targets)).toEqual(new Set(functions));
  });

  it("runs each handler on nodejs22.x arm64 with 512 MB when deployed", () => {
    const functions = all(ci, "aws:lambda/function:Function");
    expect(functions.map((f) => f.name).sort()).toEqual([
      "AuthorizeFunction",
      "CallbackFunction",
      "GetTokenFromCodeFunction",
    ]);
    for (const fn of functions) {
      expect(fn.inputs).toMatchObject({
        runtime: "nodejs22.x",
        architectures: ["arm64"],
        memorySize: 512,
        handler: "bundle.handler",
      });
    }
  });

  it("bundles every handler with esbuild, minified, when deployed", () => {
    expect(ci.builds.map((b) => b.handler).sort()).toEqual([
      "functions/src/authorize.handler",
      "functions/src/callback.handler",
      "functions/src/get-token-from-code.handler",
    ]);
    for (const build of ci.builds) {
      expect(build.errors).toEqual([]);
      expect(build.runtime).toBe("nodejs22.x");
      expect(build.properties).toMatchObject({ minify: true, architecture: "arm64" });
      expect(statSync(join(build.out, "bundle.mjs")).size).toBeGreaterThan(0);
      expect(existsSync(join(build.out, "resource.enc"))).toBe(true);
    }
  });

  it("grants each function only named actions on the table, key and log group ARNs", () => {
    const statements = (role: string) => inlinePolicy(one(ci, "aws:iam/role:Role", role)).Statement;
    expect(statements("AuthorizeRole")).toEqual([
      allow(["dynamodb:GetItem", "dynamodb:PutItem"], [TABLE_ARN]),
      allow(["kms:GenerateMac"], [STATE_KEY_ARN], MAC_CONDITION),
      allow(["logs:CreateLogStream", "logs:PutLogEvents"], [logStreams("Authorize")]),
    ]);
    expect(statements("CallbackRole")).toEqual([
      allow(["dynamodb:GetItem", "dynamodb:UpdateItem"], [TABLE_ARN]),
      allow(["kms:VerifyMac"], [STATE_KEY_ARN], MAC_CONDITION),
      allow(["kms:GenerateDataKey", "kms:Decrypt"], [DATA_KEY_ARN], CONTEXT_CONDITION),
      allow(["logs:CreateLogStream", "logs:PutLogEvents"], [logStreams("Callback")]),
    ]);
    expect(statements("GetTokenFromCodeRole")).toEqual([
      allow(["dynamodb:GetItem", "dynamodb:UpdateItem"], [TABLE_ARN]),
      allow(["kms:GenerateDataKey", "kms:Decrypt"], [DATA_KEY_ARN], CONTEXT_CONDITION),
      allow(["logs:CreateLogStream", "logs:PutLogEvents"], [logStreams("GetTokenFromCode")]),
    ]);
  });

  it("gives no role a wildcard action, a wildcard resource or a managed policy", () => {
    const roles = all(ci, "aws:iam/role:Role");
    expect(roles).toHaveLength(3);
    for (const role of roles) {
      expect(role.inputs.managedPolicyArns).toEqual([]);
      for (const statement of inlinePolicy(role).Statement) {
        for (const action of statement.Action as string[]) expect(action).toMatch(/^[a-z0-9]+:[A-Za-z]+$/);
        for (const resource of statement.Resource as string[]) expect(resource).toMatch(/^arn:aws:[a-z]+:/);
      }
    }
  });

  it("lets only the functions' roles use each key, with the conditions their IAM policies carry", () => {
    const roleArn = (name: string) => one(ci, "aws:iam/role:Role", `${name}Role`).state.arn;
    const uses = (sid: string, role: string, Action: string[], Condition: object) => ({
      Sid: sid,
      Effect: "Allow",
      Principal: { AWS: roleArn(role) },
      Action,
      Resource: "*",
      Condition,
    });
    const [stateAdmin, ...stateUses] = keyPolicy("StateKeyPolicy").Statement;
    expect(stateUses).toEqual([
      uses("AuthorizeUsesKey", "Authorize", ["kms:GenerateMac"], MAC_CONDITION),
      uses("CallbackUsesKey", "Callback", ["kms:VerifyMac"], MAC_CONDITION),
    ]);
    const [dataAdmin, ...dataUses] = keyPolicy("DataKeyPolicy").Statement;
    expect(dataUses).toEqual([
      uses("CallbackUsesKey", "Callback", ["kms:GenerateDataKey", "kms:Decrypt"], CONTEXT_CONDITION),
      uses(
        "GetTokenFromCodeUsesKey",
        "GetTokenFromCode",
        ["kms:GenerateDataKey", "kms:Decrypt"],
        CONTEXT_CONDITION,
      ),
    ]);
    for (const admin of [stateAdmin, dataAdmin]) {
      expect(admin?.Principal).toEqual({ AWS: `arn:aws:iam::${ACCOUNT}:root` });
      const actions = admin?.Action as string[];
      for (const use of [
        "kms:Decrypt",
        "kms:Encrypt",
        "kms:GenerateDataKey",
        "kms:GenerateMac",
        "kms:VerifyMac",
      ]) {
        expect(actions).not.toContain(use);
      }
      expect(actions).not.toContain("kms:CreateGrant");
      expect(actions.some((action) => action.includes("*"))).toBe(false);
    }
  });

  it("creates an HMAC_256 state key and a yearly rotating symmetric data key", () => {
    expect(one(ci, "aws:kms/key:Key", "StateKeyKms").inputs).toMatchObject({
      keyUsage: "GENERATE_VERIFY_MAC",
      customerMasterKeySpec: "HMAC_256",
    });
    expect(one(ci, "aws:kms/key:Key", "DataKeyKms").inputs).toMatchObject({
      keyUsage: "ENCRYPT_DECRYPT",
      customerMasterKeySpec: "SYMMETRIC_DEFAULT",
      enableKeyRotation: true,
      rotationPeriodInDays: 365,
    });
  });

  it("creates an on-demand pk/sk table with TTL on ttl and point-in-time recovery", () => {
    expect(one(ci, "aws:dynamodb/table:Table", "DataTable").inputs).toMatchObject({
      billingMode: "PAY_PER_REQUEST",
      hashKey: "pk",
      rangeKey: "sk",
      attributes: [
        { name: "pk", type: "S" },
        { name: "sk", type: "S" },
      ],
      ttl: { attributeName: "ttl", enabled: true },
      pointInTimeRecovery: { enabled: true },
      deletionProtectionEnabled: false,
    });
  });

  it("protects the table from deletion when the stage is production", () => {
    expect(one(production, "aws:dynamodb/table:Table", "DataTable").inputs.deletionProtectionEnabled).toBe(
      true,
    );
    expect(production.outputs._protect).toBe(true);
    expect(ci.outputs._protect).toBe(false);
  });

  it("links each function only to what it uses", () => {
    const links = Object.fromEntries(ci.builds.map((b) => [b.functionID, Object.keys(b.links).sort()]));
    expect(links).toEqual({
      Authorize: ["Auth", "PublicApi", "StateKey", "Table", "WebApp"],
      Callback: ["DataKey", "PublicApi", "StateKey", "Table", "WebApp"],
      GetTokenFromCode: ["Auth", "DataKey", "Table"],
    });
  });

  it("passes the settings and the API's own URL through the links when no override is set", () => {
    const authorize = ci.builds.find((b) => b.functionID === "Authorize")?.links;
    expect(authorize).toMatchObject({
      Table: { name: "connector-oauth-ci" },
      StateKey: { arn: STATE_KEY_ARN },
      PublicApi: { url: API_URL },
      WebApp: { origins: SECRETS.AppOrigins, successPath: "", errorPath: "" },
      Auth: { hs256Secret: SECRETS.AuthHs256Secret, jwksUrl: "", issuer: SECRETS.AuthIssuer, audience: "" },
    });
  });

  it("uses the PublicApiUrl setting for the functions and the callback URL when the stage sets one", () => {
    for (const build of production.builds.filter((b) => "PublicApi" in b.links)) {
      expect(build.links.PublicApi).toMatchObject({ url: "https://connect.example.com" });
    }
    expect(production.outputs.callbackUrl).toBe("https://connect.example.com/connectors/oauth/callback");
  });

  it("throttles every route, writes access logs and allows CORS only from the app origins", () => {
    const stage = one(ci, "aws:apigatewayv2/stage:Stage", "ApiStage").inputs;
    expect(stage.defaultRouteSettings).toEqual({ throttlingBurstLimit: 50, throttlingRateLimit: 20 });
    expect(stage.accessLogSettings).toMatchObject({ destinationArn: expect.stringContaining(":log-group:") });
    const cors = one(ci, "aws:apigatewayv2/api:Api", "ApiApi").state.corsConfiguration;
    expect(cors).toMatchObject({ allowOrigins: ["https://app.example.com", "https://admin.example.com"] });
  });

  it("alarms on API 5xx and throttling, function errors and throttles, and table throttles", () => {
    const alarms = all(ci, "aws:cloudwatch/metricAlarm:MetricAlarm").map((a) => a.inputs);
    const byName = (suffix: string) => alarms.find((a) => a.name === `connector-oauth-ci-${suffix}`);
    expect(alarms).toHaveLength(9);
    expect(byName("Api5xx")).toMatchObject({ namespace: "AWS/ApiGateway", metricName: "5xx" });
    expect(byName("ApiThrottled")).toMatchObject({ metricName: "ApiThrottled" });
    for (const fn of ["Authorize", "Callback", "GetTokenFromCode"]) {
      expect(byName(`${fn}Errors`)).toMatchObject({ namespace: "AWS/Lambda", metricName: "Errors" });
      expect(byName(`${fn}Throttles`)).toMatchObject({ namespace: "AWS/Lambda", metricName: "Throttles" });
    }
    expect(byName("TableThrottles")).toBeDefined();
    const topic = one(ci, "aws:sns/topic:Topic", "AlarmTopic").state.arn;
    for (const alarm of alarms) expect(alarm.alarmActions).toEqual([topic]);
    const filter = one(ci, "aws:cloudwatch/logMetricFilter:LogMetricFilter", "ApiThrottledFilter").inputs;
    expect(filter.pattern).toBe("{ $.status = 429 }");
  });

  it("outputs the API and callback URLs and the table, key and alarm identifiers", () => {
    expect(ci.outputs).toMatchObject({
      apiUrl: API_URL,
      callbackUrl: `${API_URL}/connectors/oauth/callback`,
      tableName: "connector-oauth-ci",
      stateKeyArn: STATE_KEY_ARN,
      dataKeyArn: DATA_KEY_ARN,
      alarmTopic: expect.stringMatching(/^arn:aws:sns:/),
    });
  });

  it("declares in sst-env.d.ts exactly the links deploy would generate", () => {
    expect(readFileSync(join(ROOT, "sst-env.d.ts"), "utf8")).toBe(renderSstEnv(ci.links));
  });

  it("starts each bundled handler with only its own links and answers a request needing no AWS call", () => {
    const requests: Record<string, object> = {
      Authorize: {
        method: "GET",
        path: "/connectors/c1/oauth/authorize",
        pathParameters: { connectorId: "c1" },
      },
      Callback: {
        method: "GET",
        path: "/connectors/oauth/callback",
        headers: { accept: "application/json" },
      },
      GetTokenFromCode: { method: "POST", path: "/connectors/getTokenFromCode", body: '{"code":"x"}' },
    };
    const expected = { Authorize: 401, Callback: 400, GetTokenFromCode: 401 };
    const statuses = Object.fromEntries(
      ci.builds.map((build) => [
        build.functionID,
        coldStart(build.functionID, build.out, requests[build.functionID]),
      ]),
    );
    expect(statuses).toEqual(expected);
  });
});

/** Imports the bundle in a fresh Node with the Lambda's environment and invokes it once. */
function coldStart(functionID: string, out: string, request: object | undefined): number | string {
  const fn = one(ci, "aws:lambda/function:Function", `${functionID}Function`).inputs;
  const variables = (fn.environment as { variables: Record<string, string> }).variables;
  const { method, path, pathParameters, headers, body } = request as Record<string, never>;
  const event = {
    version: "2.0",
    rawPath: path,
    rawQueryString: "",
    headers: headers ?? {},
    pathParameters,
    body,
    isBase64Encoded: false,
    requestContext: { http: { method, path } },
  };
  const script = `const { handler } = await import("./bundle.mjs");
    const response = await handler(${JSON.stringify(event)}, {});
    process.stdout.write(String(response.statusCode));`;
  const run = spawnSync(process.execPath, ["--input-type=module", "-e", script], {
    cwd: out,
    encoding: "utf8",
    timeout: 20_000,
    env: {
      PATH: process.env.PATH,
      ...variables,
      AWS_LAMBDA_FUNCTION_NAME: String(fn.name),
      AWS_REGION: REGION,
      AWS_ACCESS_KEY_ID: "test",
      AWS_SECRET_ACCESS_KEY: "test",
      // Nothing listens here: a request that reached AWS would fail instead of leaving the machine.
      AWS_ENDPOINT_URL: "http://127.0.0.1:9",
    },
  });
  if (run.status !== 0) return (run.stderr.match(/^\w*Error: .*$/m)?.[0] ?? run.stderr).trim();
  return Number(run.stdout);
}
