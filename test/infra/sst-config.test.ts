/**
 * sst.config.ts and stacks/, run the way `sst deploy` runs them (test/infra/harness.ts), offline.
 * Expectations are written out here, not read from functions/src/routes.ts (the route table), so a change there shows up.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  ACCOUNT,
  type Deployment,
  deployUnderMocks,
  ensurePlatform,
  evaluateApp,
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
/** Data key use: the context names org, connector and purpose (and may carry the config digest). */
const contextCondition = (...purposes: string[]) => ({
  "ForAllValues:StringEquals": {
    "kms:EncryptionContextKeys": ["orgId", "connectorId", "purpose", "config"],
  },
  Null: {
    "kms:EncryptionContextKeys": ["false"],
    "kms:EncryptionContext:orgId": ["false"],
    "kms:EncryptionContext:connectorId": ["false"],
    "kms:EncryptionContext:config": ["false"],
  },
  StringEquals: { "kms:EncryptionContext:purpose": purposes },
});
/** Items whose partition key starts with the prefix: ORG# (connectors, leases) or FLOW# (flows). */
const itemsCondition = (...prefixes: string[]) => ({
  "ForAllValues:StringLike": { "dynamodb:LeadingKeys": prefixes.map((prefix) => `${prefix}*`) },
  Null: { "dynamodb:LeadingKeys": ["false"] },
});
const TOKEN_TABLE_ACTIONS = [
  "dynamodb:GetItem",
  "dynamodb:UpdateItem",
  "dynamodb:PutItem",
  "dynamodb:DeleteItem",
];
const SYNC_WORKER_ROLE = `arn:aws:iam::${ACCOUNT}:role/sync-worker`;
const ROUTE_FUNCTIONS = [
  "Authorize",
  "Callback",
  "GetTokenFromCode",
  "ConnectorPut",
  "ConnectorGet",
  "ConnectorList",
  "ConnectorDelete",
  "AccessToken",
];
const TOKEN_ROUTE = "POST /internal/orgs/{orgId}/connectors/{connectorId}/access-token";
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
    TokenConsumerPrincipals: ` ${SYNC_WORKER_ROLE} `,
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

function consumerPolicy(): { Statement: Record<string, unknown>[] } {
  return JSON.parse(String(one(ci, "aws:iam/policy:Policy", "TokenConsumerPolicy").inputs.policy));
}

const functionArn = (name: string) => one(ci, "aws:lambda/function:Function", `${name}Function`).state.arn;

describe("sst.config.ts", () => {
  it("creates exactly these routes, each a payload 2.0 Lambda proxy, when deployed", () => {
    const routes = all(ci, "aws:apigatewayv2/route:Route").map((route) => route.inputs.routeKey);
    expect(routes.sort()).toEqual([
      "DELETE /connectors/{connectorId}",
      "GET /connectors",
      "GET /connectors/oauth/callback",
      "GET /connectors/{connectorId}",
      "GET /connectors/{connectorId}/oauth/authorize",
      "POST /connectors/getTokenFromCode",
      TOKEN_ROUTE,
      "PUT /connectors/{connectorId}",
    ]);
    const integrations = all(ci, "aws:apigatewayv2/integration:Integration");
    expect(integrations.map((i) => [i.inputs.integrationType, i.inputs.payloadFormatVersion])).toEqual(
      ROUTE_FUNCTIONS.map(() => ["AWS_PROXY", "2.0"]),
    );
    const targets = integrations.map((i) => String(i.state.integrationUri));
    expect(new Set(targets)).toEqual(new Set(ROUTE_FUNCTIONS.map(functionArn)));
    const invokers = all(ci, "aws:lambda/permission:Permission").map((p) => [
      p.inputs.principal,
      p.inputs.function,
    ]);
    expect(invokers.sort()).toEqual(
      ROUTE_FUNCTIONS.map((name) => ["apigateway.amazonaws.com", functionArn(name)]).sort(),
    );
  });

  it("puts the token API behind API Gateway's IAM authorizer and every other route behind none", () => {
    const authorization = Object.fromEntries(
      all(ci, "aws:apigatewayv2/route:Route").map((route) => [
        route.inputs.routeKey,
        route.inputs.authorizationType,
      ]),
    );
    expect(authorization).toEqual({
      "DELETE /connectors/{connectorId}": "NONE",
      "GET /connectors": "NONE",
      "GET /connectors/{connectorId}": "NONE",
      "PUT /connectors/{connectorId}": "NONE",
      "GET /connectors/{connectorId}/oauth/authorize": "NONE",
      "GET /connectors/oauth/callback": "NONE",
      "POST /connectors/getTokenFromCode": "NONE",
      [TOKEN_ROUTE]: "AWS_IAM",
    });
  });

  it("renders the worker policy: execute-api:Invoke on the token route of this stage's API only", () => {
    const policy = one(ci, "aws:iam/policy:Policy", "TokenApiPolicy");
    expect(JSON.parse(String(policy.inputs.policy))).toEqual({
      Version: "2012-10-17",
      Statement: [
        allow(
          ["execute-api:Invoke"],
          [
            `arn:aws:execute-api:${REGION}:${ACCOUNT}:ApiApi-id/$default/POST/internal/orgs/*/connectors/*/access-token`,
          ],
        ),
      ],
    });
    // SST's stage for the API is $default (the ARN's stage part).
    expect(one(ci, "aws:apigatewayv2/stage:Stage", "ApiStage").inputs.name).toBe("$default");
    // Attached to no role here: the worker's own role carries it (docs/deploy.md).
    const attached = all(ci, "aws:iam/rolePolicyAttachment:RolePolicyAttachment").map(
      (a) => a.inputs.policyArn,
    );
    expect(attached).not.toContain(policy.state.arn);
  });

  it("runs KeepAlive every 15 minutes from EventBridge Scheduler, outside the API, without retries", () => {
    const schedule = one(ci, "aws:scheduler/schedule:Schedule", "KeepAliveScheduleSchedule").inputs;
    const schedulerRole = one(ci, "aws:iam/role:Role", "KeepAliveScheduleRole");
    expect(schedule).toMatchObject({
      scheduleExpression: "rate(15 minutes)",
      state: "ENABLED",
      flexibleTimeWindow: { mode: "OFF" },
      target: {
        arn: functionArn("KeepAlive"),
        roleArn: schedulerRole.state.arn,
        retryPolicy: { maximumRetryAttempts: 0 },
      },
    });
    expect(all(ci, "aws:scheduler/schedule:Schedule")).toHaveLength(1);
    expect(JSON.parse(String(schedulerRole.inputs.assumeRolePolicy))).toMatchObject({
      Statement: [
        {
          Effect: "Allow",
          Action: "sts:AssumeRole",
          Principal: { Service: "scheduler.amazonaws.com" },
          Condition: { StringEquals: { "aws:SourceAccount": ACCOUNT } },
        },
      ],
    });
    expect(inlinePolicy(schedulerRole).Statement).toEqual([
      allow(["lambda:InvokeFunction"], [String(functionArn("KeepAlive"))]),
    ]);
    // Lambda's own retries of the scheduler's asynchronous invocation are off too.
    const invokeConfig = one(
      ci,
      "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig",
      "KeepAliveEventInvokeConfig",
    ).inputs;
    expect(invokeConfig).toMatchObject({ maximumRetryAttempts: 0 });
    expect(all(ci, "aws:lambda/functionUrl:FunctionUrl")).toEqual([]);
  });

  it("runs each function on nodejs22.x arm64 with 512 MB, 15 s per request, 5 min for KeepAlive", () => {
    const functions = all(ci, "aws:lambda/function:Function");
    expect(functions.map((f) => f.name).sort()).toEqual([
      "AccessTokenFunction",
      "AuthorizeFunction",
      "CallbackFunction",
      "ConnectorDeleteFunction",
      "ConnectorGetFunction",
      "ConnectorListFunction",
      "ConnectorPutFunction",
      "GetTokenFromCodeFunction",
      "KeepAliveFunction",
    ]);
    for (const fn of functions) {
      expect(fn.inputs).toMatchObject({
        runtime: "nodejs22.x",
        architectures: ["arm64"],
        memorySize: 512,
        handler: "bundle.handler",
        timeout: fn.name === "KeepAliveFunction" ? 300 : 15,
        loggingConfig: {
          logFormat: "JSON",
          logGroup: `/aws/lambda/connector-oauth/ci/${fn.name.replace(/Function$/, "")}`,
        },
      });
    }
  });

  it("bundles every handler with esbuild, minified, when deployed", () => {
    expect(ci.builds.map((b) => b.handler).sort()).toEqual([
      "functions/src/access-token.handler",
      "functions/src/authorize.handler",
      "functions/src/callback.handler",
      "functions/src/connector-delete.handler",
      "functions/src/connector-get.handler",
      "functions/src/connector-list.handler",
      "functions/src/connector-put.handler",
      "functions/src/get-token-from-code.handler",
      "functions/src/keep-alive.handler",
    ]);
    for (const build of ci.builds) {
      expect(build.errors).toEqual([]);
      expect(build.runtime).toBe("nodejs22.x");
      expect(build.properties).toMatchObject({ minify: true, architecture: "arm64" });
      expect(statSync(join(build.out, "bundle.mjs")).size).toBeGreaterThan(0);
      // The IAM simulator (AGPL-3.0, a devDependency) is not in it: one of its error messages
      // (@cloud-copilot/iam-simulate, simulation_engine/contextKeys.js) would survive minification.
      expect(readFileSync(join(build.out, "bundle.mjs"), "utf8")).not.toContain(
        "No resource types found for action",
      );
      expect(existsSync(join(build.out, "resource.enc"))).toBe(true);
    }
  });

  it("grants each function only named actions per key prefix and per purpose on the table, keys and log group", () => {
    // Every statement is for calls from inside the function only; checked here, then set aside.
    const statements = (role: string) =>
      inlinePolicy(one(ci, "aws:iam/role:Role", role)).Statement.map((statement) => {
        const { ArnEquals, ...condition } = statement.Condition as Record<string, unknown>;
        const fn = `arn:aws:lambda:${REGION}:${ACCOUNT}:function:connector-oauth-ci-${role.replace(/Role$/, "")}`;
        expect(ArnEquals, role).toEqual({ "lambda:SourceFunctionArn": [fn] });
        const { Condition: _, ...rest } = statement;
        return Object.keys(condition).length > 0 ? { ...rest, Condition: condition } : rest;
      });
    const openSecret = allow(["kms:Decrypt"], [DATA_KEY_ARN], contextCondition("client-secret"));
    const sealTokens = allow(["kms:GenerateDataKey"], [DATA_KEY_ARN], contextCondition("tokens"));
    expect(statements("AuthorizeRole")).toEqual([
      allow(["dynamodb:GetItem"], [TABLE_ARN], itemsCondition("ORG#")),
      allow(["dynamodb:GetItem", "dynamodb:PutItem"], [TABLE_ARN], itemsCondition("FLOW#")),
      allow(
        ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"],
        [TABLE_ARN],
        itemsCondition("SLOTS#"),
      ),
      allow(["kms:GenerateMac"], [STATE_KEY_ARN], MAC_CONDITION),
      allow(["logs:CreateLogStream", "logs:PutLogEvents"], [logStreams("Authorize")]),
    ]);
    expect(statements("CallbackRole")).toEqual([
      allow(["dynamodb:GetItem", "dynamodb:UpdateItem"], [TABLE_ARN], itemsCondition("FLOW#")),
      allow(["dynamodb:GetItem", "dynamodb:UpdateItem"], [TABLE_ARN], itemsCondition("ORG#")),
      allow(["kms:VerifyMac"], [STATE_KEY_ARN], MAC_CONDITION),
      openSecret,
      sealTokens,
      allow(["logs:CreateLogStream", "logs:PutLogEvents"], [logStreams("Callback")]),
    ]);
    expect(statements("GetTokenFromCodeRole")).toEqual([
      allow(["dynamodb:GetItem", "dynamodb:UpdateItem"], [TABLE_ARN], itemsCondition("ORG#")),
      openSecret,
      sealTokens,
      allow(["logs:CreateLogStream", "logs:PutLogEvents"], [logStreams("GetTokenFromCode")]),
    ]);
    // The connectors API: connector items only (ORG#), no state key; only PUT seals (client
    // secrets only), only DELETE opens (to revoke), GET and list read.
    expect(statements("ConnectorPutRole")).toEqual([
      allow(["dynamodb:GetItem", "dynamodb:UpdateItem"], [TABLE_ARN], itemsCondition("ORG#")),
      allow(["kms:GenerateDataKey"], [DATA_KEY_ARN], contextCondition("client-secret")),
      allow(["logs:CreateLogStream", "logs:PutLogEvents"], [logStreams("ConnectorPut")]),
    ]);
    expect(statements("ConnectorGetRole")).toEqual([
      allow(["dynamodb:GetItem"], [TABLE_ARN], itemsCondition("ORG#")),
      allow(["logs:CreateLogStream", "logs:PutLogEvents"], [logStreams("ConnectorGet")]),
    ]);
    expect(statements("ConnectorListRole")).toEqual([
      allow(["dynamodb:Query"], [TABLE_ARN], itemsCondition("ORG#")),
      allow(["logs:CreateLogStream", "logs:PutLogEvents"], [logStreams("ConnectorList")]),
    ]);
    expect(statements("ConnectorDeleteRole")).toEqual([
      allow(
        ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"],
        [TABLE_ARN],
        itemsCondition("ORG#"),
      ),
      allow(["kms:Decrypt"], [DATA_KEY_ARN], contextCondition("client-secret", "tokens")),
      allow(["logs:CreateLogStream", "logs:PutLogEvents"], [logStreams("ConnectorDelete")]),
    ]);
    // The token API: what getAccessToken / refresh need (the token consumer's grants), no state key.
    expect(statements("AccessTokenRole")).toEqual([
      allow(TOKEN_TABLE_ACTIONS, [TABLE_ARN], itemsCondition("ORG#")),
      allow(["kms:Decrypt"], [DATA_KEY_ARN], contextCondition("client-secret", "tokens")),
      sealTokens,
      allow(["logs:CreateLogStream", "logs:PutLogEvents"], [logStreams("AccessToken")]),
    ]);
    expect(statements("KeepAliveRole")).toEqual([
      allow(TOKEN_TABLE_ACTIONS, [TABLE_ARN], itemsCondition("ORG#")),
      allow(["kms:Decrypt"], [DATA_KEY_ARN], contextCondition("client-secret", "tokens")),
      sealTokens,
      allow(["dynamodb:Scan"], [TABLE_ARN]),
      allow(["logs:CreateLogStream", "logs:PutLogEvents"], [logStreams("KeepAlive")]),
    ]);
  });

  it("lets every function's role be assumed only by Lambda, for this account and that function", () => {
    const functions = all(ci, "aws:lambda/function:Function");
    expect(functions).toHaveLength(ROUTE_FUNCTIONS.length + 1);
    for (const fn of functions) {
      const name = String(fn.name).replace(/Function$/, "");
      expect(fn.inputs.name).toBe(`connector-oauth-ci-${name}`);
      const role = all(ci, "aws:iam/role:Role").find((r) => r.state.arn === fn.inputs.role);
      expect(role?.name).toBe(`${name}Role`);
      expect(role?.inputs.managedPolicyArns).toEqual([]);
      expect(JSON.parse(String(role?.inputs.assumeRolePolicy))).toEqual({
        Version: "2012-10-17",
        Statement: [
          {
            Sid: "LambdaOfThisAccountOnly",
            Effect: "Allow",
            Principal: { Service: "lambda.amazonaws.com" },
            Action: "sts:AssumeRole",
            Condition: {
              StringEquals: { "aws:SourceAccount": ACCOUNT },
              ArnEqualsIfExists: { "aws:SourceArn": fn.state.arn },
            },
          },
        ],
      });
    }
  });

  it("gives sync workers a policy for connector and lease items and the data key, and a role carrying only it", () => {
    expect(consumerPolicy().Statement).toEqual([
      allow(TOKEN_TABLE_ACTIONS, [TABLE_ARN], itemsCondition("ORG#")),
      allow(["kms:Decrypt"], [DATA_KEY_ARN], contextCondition("client-secret", "tokens")),
      allow(["kms:GenerateDataKey"], [DATA_KEY_ARN], contextCondition("tokens")),
    ]);
    const consumerRole = one(ci, "aws:iam/role:Role", "TokenConsumerRole");
    const role = consumerRole.inputs;
    expect(role.managedPolicyArns).toBeUndefined();
    expect(role.inlinePolicies).toBeUndefined();
    const attachments = all(ci, "aws:iam/rolePolicyAttachment:RolePolicyAttachment").map((a) => a.inputs);
    expect(attachments).toEqual([
      {
        role: consumerRole.state.name,
        policyArn: one(ci, "aws:iam/policy:Policy", "TokenConsumerPolicy").state.arn,
      },
    ]);
    const workers = {
      Sid: "WorkersOfThisAccountRunAsIt",
      Effect: "Allow",
      Principal: { Service: ["lambda.amazonaws.com", "ecs-tasks.amazonaws.com"] },
      Action: "sts:AssumeRole",
      Condition: { StringEquals: { "aws:SourceAccount": ACCOUNT } },
    };
    // No TokenConsumerPrincipals on ci: nobody assumes it, workers run as it.
    expect(JSON.parse(String(role.assumeRolePolicy)).Statement).toEqual([workers]);
    const named = one(production, "aws:iam/role:Role", "TokenConsumerRole").inputs.assumeRolePolicy;
    expect(JSON.parse(String(named)).Statement).toEqual([
      workers,
      {
        Sid: "NamedPrincipalsAssumeIt",
        Effect: "Allow",
        Principal: { AWS: [SYNC_WORKER_ROLE] },
        Action: "sts:AssumeRole",
      },
    ]);
    expect(all(ci, "aws:iam/policy:Policy").map((p) => p.name)).toEqual([
      "TokenConsumerPolicy",
      "TokenApiPolicy",
    ]);
  });

  it("gives no role a wildcard action or resource, and no role but the token consumer's a managed policy", () => {
    // The token consumer role's one attachment is checked above; every other role excludes any.
    const roles = all(ci, "aws:iam/role:Role");
    expect(roles.map((role) => role.name).sort()).toEqual([
      "AccessTokenRole",
      "AuthorizeRole",
      "CallbackRole",
      "ConnectorDeleteRole",
      "ConnectorGetRole",
      "ConnectorListRole",
      "ConnectorPutRole",
      "GetTokenFromCodeRole",
      "KeepAliveRole",
      "KeepAliveScheduleRole",
      "TokenConsumerRole",
    ]);
    // TokenApiPolicy (a route ARN with a * per path parameter) is checked exactly above.
    const statements = [...consumerPolicy().Statement];
    for (const role of roles.filter((role) => role.name !== "TokenConsumerRole")) {
      expect(role.inputs.managedPolicyArns).toEqual([]);
      statements.push(...inlinePolicy(role).Statement);
    }
    for (const statement of statements) {
      for (const action of statement.Action as string[]) expect(action).toMatch(/^[a-z0-9]+:[A-Za-z]+$/);
      for (const resource of statement.Resource as string[]) expect(resource).toMatch(/^arn:aws:[a-z]+:/);
    }
  });

  it("lets only the functions' and the token consumer's roles use each key, with their IAM conditions", () => {
    const roleArn = (name: string) => one(ci, "aws:iam/role:Role", `${name}Role`).state.arn;
    // Each use is granted to the account for that one role (aws:PrincipalArn), so the role's IAM
    // policy must allow it too, with its lambda:SourceFunctionArn condition: a key policy cannot
    // carry that key itself (AWS Lambda Developer Guide, "Using source function ARN to control
    // function access behavior": not usable in resource-based policies).
    const uses = (sid: string, role: string, Action: string[], Condition: object) => ({
      Sid: sid,
      Effect: "Allow",
      Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` },
      Action,
      Resource: "*",
      Condition: { ...Condition, ArnEquals: { "aws:PrincipalArn": [roleArn(role)] } },
    });
    const [stateAdmin, ...stateUses] = keyPolicy("StateKeyPolicy").Statement;
    expect(stateUses).toEqual([
      uses("AuthorizeGenerateMac", "Authorize", ["kms:GenerateMac"], MAC_CONDITION),
      uses("CallbackVerifyMac", "Callback", ["kms:VerifyMac"], MAC_CONDITION),
    ]);
    const [dataAdmin, ...dataUses] = keyPolicy("DataKeyPolicy").Statement;
    const secrets = contextCondition("client-secret");
    const tokens = contextCondition("tokens");
    const both = contextCondition("client-secret", "tokens");
    expect(dataUses).toEqual([
      uses("CallbackDecrypt", "Callback", ["kms:Decrypt"], secrets),
      uses("CallbackGenerateDataKey", "Callback", ["kms:GenerateDataKey"], tokens),
      uses("GetTokenFromCodeDecrypt", "GetTokenFromCode", ["kms:Decrypt"], secrets),
      uses("GetTokenFromCodeGenerateDataKey", "GetTokenFromCode", ["kms:GenerateDataKey"], tokens),
      uses("ConnectorPutGenerateDataKey", "ConnectorPut", ["kms:GenerateDataKey"], secrets),
      uses("ConnectorDeleteDecrypt", "ConnectorDelete", ["kms:Decrypt"], both),
      uses("AccessTokenDecrypt", "AccessToken", ["kms:Decrypt"], both),
      uses("AccessTokenGenerateDataKey", "AccessToken", ["kms:GenerateDataKey"], tokens),
      uses("KeepAliveDecrypt", "KeepAlive", ["kms:Decrypt"], both),
      uses("KeepAliveGenerateDataKey", "KeepAlive", ["kms:GenerateDataKey"], tokens),
      uses("TokenConsumerDecrypt", "TokenConsumer", ["kms:Decrypt"], both),
      uses("TokenConsumerGenerateDataKey", "TokenConsumer", ["kms:GenerateDataKey"], tokens),
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
    expect(production.app.removal).toBe("retain");
    expect(ci.outputs._protect).toBe(false);
    expect(ci.app.removal).toBe("remove");
  });

  it("protects and retains every stage not explicitly a development one, and refuses bad stage names", async () => {
    const work = mkdtempSync(join(tmpdir(), "sst-app-"));
    try {
      for (const stage of ["prod", "production", "staging", "alice", "development"]) {
        expect(await evaluateApp(stage, work), stage).toMatchObject({ protect: true, removal: "retain" });
      }
      for (const stage of ["dev", "ci", "test", "dev-alice"]) {
        expect(await evaluateApp(stage, work), stage).toMatchObject({ protect: false, removal: "remove" });
      }
      for (const stage of ["Prod", "a".repeat(31), "-x", "prod_1"]) {
        await expect(evaluateApp(stage, work), stage).rejects.toThrow(/^Stage "/);
      }
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });

  it("links each function only to what it uses", () => {
    const links = Object.fromEntries(ci.builds.map((b) => [b.functionID, Object.keys(b.links).sort()]));
    expect(links).toEqual({
      Authorize: ["Auth", "PublicApi", "StateKey", "Table", "WebApp"],
      Callback: ["Auth", "DataKey", "PublicApi", "StateKey", "Table", "WebApp"],
      GetTokenFromCode: ["Auth", "DataKey", "Table"],
      ConnectorPut: ["Auth", "DataKey", "Table"],
      ConnectorGet: ["Auth", "Table"],
      ConnectorList: ["Auth", "Table"],
      ConnectorDelete: ["Auth", "DataKey", "Table"],
      KeepAlive: ["DataKey", "Table"],
      AccessToken: ["DataKey", "Table"],
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

  it("throttles each route on its own, writes access logs and allows CORS only from the app origins", () => {
    const stage = one(ci, "aws:apigatewayv2/stage:Stage", "ApiStage").inputs;
    // Each route its own throttle (sized in docs/deploy.md#flooding); an unsized route gets 1/s.
    expect(stage.defaultRouteSettings).toEqual({ throttlingBurstLimit: 1, throttlingRateLimit: 1 });
    expect(stage.routeSettings).toEqual([
      {
        routeKey: "GET /connectors/{connectorId}/oauth/authorize",
        throttlingBurstLimit: 20,
        throttlingRateLimit: 10,
      },
      { routeKey: "GET /connectors/oauth/callback", throttlingBurstLimit: 20, throttlingRateLimit: 10 },
      { routeKey: "POST /connectors/getTokenFromCode", throttlingBurstLimit: 5, throttlingRateLimit: 2 },
      { routeKey: "PUT /connectors/{connectorId}", throttlingBurstLimit: 40, throttlingRateLimit: 20 },
      { routeKey: "GET /connectors/{connectorId}", throttlingBurstLimit: 40, throttlingRateLimit: 20 },
      { routeKey: "GET /connectors", throttlingBurstLimit: 40, throttlingRateLimit: 20 },
      { routeKey: "DELETE /connectors/{connectorId}", throttlingBurstLimit: 40, throttlingRateLimit: 20 },
      { routeKey: TOKEN_ROUTE, throttlingBurstLimit: 100, throttlingRateLimit: 50 },
    ]);
    // API Gateway refuses settings for a route that does not exist: the stage is created after them.
    const order = (type: string) => ci.resources.flatMap((r, i) => (r.type === type ? [i] : []));
    const [stageAt] = order("aws:apigatewayv2/stage:Stage");
    for (const routeAt of order("aws:apigatewayv2/route:Route"))
      expect(routeAt).toBeLessThan(Number(stageAt));
    expect(stage.accessLogSettings).toMatchObject({ destinationArn: expect.stringContaining(":log-group:") });
    const cors = one(ci, "aws:apigatewayv2/api:Api", "ApiApi").state.corsConfiguration;
    expect(cors).toMatchObject({
      allowOrigins: ["https://app.example.com", "https://admin.example.com"],
      allowMethods: ["GET", "POST", "PUT", "DELETE"],
      allowHeaders: ["authorization", "content-type", "if-match"],
      exposeHeaders: ["etag"],
    });
  });

  it("alarms on API 5xx and throttling, function errors and throttles, and table throttles", () => {
    const alarms = all(ci, "aws:cloudwatch/metricAlarm:MetricAlarm").map((a) => a.inputs);
    const byName = (suffix: string) => alarms.find((a) => a.name === `connector-oauth-ci-${suffix}`);
    expect(alarms).toHaveLength(21);
    expect(byName("Api5xx")).toMatchObject({ namespace: "AWS/ApiGateway", metricName: "5xx" });
    expect(byName("ApiThrottled")).toMatchObject({ metricName: "ApiThrottled" });
    for (const fn of [...ROUTE_FUNCTIONS, "KeepAlive"]) {
      const dimensions = {
        FunctionName: one(ci, "aws:lambda/function:Function", `${fn}Function`).state.name,
      };
      for (const metricName of ["Errors", "Throttles"]) {
        expect(byName(`${fn}${metricName}`)).toMatchObject({
          namespace: "AWS/Lambda",
          metricName,
          dimensions,
          threshold: 1,
        });
      }
    }
    expect(byName("TableThrottles")).toBeDefined();
    const topic = one(ci, "aws:sns/topic:Topic", "AlarmTopic").state.arn;
    for (const alarm of alarms) expect(alarm.alarmActions).toEqual([topic]);
    const filter = one(ci, "aws:cloudwatch/logMetricFilter:LogMetricFilter", "ApiThrottledFilter").inputs;
    expect(filter.pattern).toBe("{ $.status = 429 }");
  });

  it("outputs the API and callback URLs, the table, key and alarm identifiers and the token consumer's", () => {
    const { _protect, ...outputs } = ci.outputs;
    expect(outputs).toEqual({
      apiUrl: API_URL,
      callbackUrl: `${API_URL}/connectors/oauth/callback`,
      tableName: "connector-oauth-ci",
      stateKeyArn: STATE_KEY_ARN,
      dataKeyArn: DATA_KEY_ARN,
      alarmTopic: expect.stringMatching(/^arn:aws:sns:/),
      tokenConsumerRoleArn: one(ci, "aws:iam/role:Role", "TokenConsumerRole").state.arn,
      tokenConsumerPolicyArn: expect.stringMatching(/^arn:aws:iam::\d{12}:policy\//),
      tokenApiPolicyArn: one(ci, "aws:iam/policy:Policy", "TokenApiPolicy").state.arn,
    });
    expect(outputs.tokenConsumerPolicyArn).toBe(
      one(ci, "aws:iam/policy:Policy", "TokenConsumerPolicy").state.arn,
    );
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
      ConnectorPut: {
        method: "PUT",
        path: "/connectors/c1",
        pathParameters: { connectorId: "c1" },
        body: "{}",
      },
      ConnectorGet: { method: "GET", path: "/connectors/c1", pathParameters: { connectorId: "c1" } },
      ConnectorList: { method: "GET", path: "/connectors" },
      ConnectorDelete: { method: "DELETE", path: "/connectors/c1", pathParameters: { connectorId: "c1" } },
      // No requestContext.authorizer.iam: refused before any AWS call (a route without the authorizer).
      AccessToken: {
        method: "POST",
        path: "/internal/orgs/acme/connectors/c1/access-token",
        pathParameters: { orgId: "acme", connectorId: "c1" },
      },
    };
    const expected = {
      Authorize: 401,
      Callback: 400,
      GetTokenFromCode: 401,
      ConnectorPut: 401,
      ConnectorGet: 401,
      ConnectorList: 401,
      ConnectorDelete: 401,
      AccessToken: 403,
    };
    const statuses = Object.fromEntries(
      ci.builds
        .filter((build) => build.functionID in requests)
        .map((build) => [
          build.functionID,
          coldStart(build.functionID, build.out, requests[build.functionID]),
        ]),
    );
    expect(statuses).toEqual(expected);
  });

  it("starts the bundled keep-alive with only its links and scans the linked table once when it is empty", () => {
    const build = ci.builds.find((b) => b.functionID === "KeepAlive");
    expect(build?.errors).toEqual([]);
    expect(keepAliveRun(String(build?.out))).toEqual({
      calls: [{ target: "DynamoDB_20120810.Scan", table: "connector-oauth-ci" }],
      summary: { examined: 0, refreshed: 0, needsReauth: 0, failed: 0, stoppedEarly: false },
    });
  });
});

/** The deployed function's environment (SST's link variables) plus what Lambda sets, offline. */
function lambdaEnvironment(functionID: string): Record<string, string | undefined> {
  const fn = one(ci, "aws:lambda/function:Function", `${functionID}Function`).inputs;
  const variables = (fn.environment as { variables: Record<string, string> }).variables;
  return {
    PATH: process.env.PATH,
    ...variables,
    AWS_LAMBDA_FUNCTION_NAME: String(fn.name),
    AWS_REGION: REGION,
    AWS_ACCESS_KEY_ID: "test",
    AWS_SECRET_ACCESS_KEY: "test",
    // Nothing listens here: a request that reached AWS would fail instead of leaving the machine.
    AWS_ENDPOINT_URL: "http://127.0.0.1:9",
  };
}

/** Runs an ES module script in a fresh Node in the bundle's directory. */
function runInBundle(functionID: string, out: string, script: string) {
  return spawnSync(process.execPath, ["--input-type=module", "-e", script], {
    cwd: out,
    encoding: "utf8",
    timeout: 20_000,
    env: lambdaEnvironment(functionID),
  });
}

/** Imports the bundle in a fresh Node with the Lambda's environment and invokes it once. */
function coldStart(functionID: string, out: string, request: object | undefined): number | string {
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
  const run = runInBundle(functionID, out, script);
  if (run.status !== 0) return (run.stderr.match(/^\w*Error: .*$/m)?.[0] ?? run.stderr).trim();
  return Number(run.stdout);
}

/**
 * Imports the keep-alive bundle (its settings come from its links only) with DynamoDB pointed at a
 * stand-in answering every call with an empty page, invokes it once as the schedule does, and
 * returns the calls the stand-in saw and the run's summary (or the error).
 */
function keepAliveRun(out: string): unknown {
  const script = `import { createServer } from "node:http";
    const calls = [];
    const dynamo = createServer((req, res) => {
      let body = "";
      req.on("data", (chunk) => { body += chunk; });
      req.on("end", () => {
        calls.push({ target: req.headers["x-amz-target"], table: JSON.parse(body || "{}").TableName });
        res.setHeader("content-type", "application/x-amz-json-1.0");
        res.end(JSON.stringify({ Items: [], Count: 0, ScannedCount: 0 }));
      });
    });
    await new Promise((resolve) => dynamo.listen(0, "127.0.0.1", resolve));
    process.env.AWS_ENDPOINT_URL_DYNAMODB = "http://127.0.0.1:" + dynamo.address().port;
    const { handler } = await import("./bundle.mjs");
    const summary = await handler({}, { getRemainingTimeInMillis: () => 300000 });
    dynamo.close();
    process.stdout.write("\\nRESULT " + JSON.stringify({ calls, summary }) + "\\n");`;
  const run = runInBundle("KeepAlive", out, script);
  const result = run.stdout.match(/^RESULT (.*)$/m)?.[1];
  if (run.status !== 0 || !result) return (run.stderr.match(/^\w*Error: .*$/m)?.[0] ?? run.stderr).trim();
  return JSON.parse(result);
}
