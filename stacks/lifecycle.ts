/**
 * Token lifecycle outside the HTTP API (docs/token-access.md):
 * - KeepAlive: a function run by an EventBridge Scheduler schedule every 15 minutes (not behind API
 *   Gateway); it refreshes tokens about to expire and touches idle grants
 *   (functions/src/keep-alive.ts). Linked to the table and the data key only.
 * - Token consumers (sync workers): the least privilege getAccessToken / refresh / disconnect need
 *   (packages/aws/src/lifecycle.ts), as a managed policy and a role that carries it. The data key's
 *   policy names that role (as it names each function's role), so a worker runs as the role (its
 *   Lambda execution role or ECS task role) or assumes it; attaching the policy to another role is
 *   not enough for KMS.
 */
import { FUNCTION_DEFAULTS } from "./api.ts";
import { type Keys, type KeyUse, type PolicyCondition, policyCondition } from "./keys.ts";
import type { Storage } from "./storage.ts";

/** What packages/aws sends for the token operations (dynamo.ts, leases.ts, kms.ts). */
export const tokenAccess = {
  // Connector reads and versioned writes; the refresh lease item (PutItem takes it, DeleteItem frees it).
  table: ["dynamodb:GetItem", "dynamodb:UpdateItem", "dynamodb:PutItem", "dynamodb:DeleteItem"],
  // Opening tokens and client secrets; sealing refreshed tokens.
  dataKey: ["kms:Decrypt", "kms:GenerateDataKey"],
} as const;

/**
 * Connector and lease items live under ORG#<orgId>; flow records (FLOW#...) stay out of reach. The
 * Null test makes the key's presence explicit (ForAllValues alone also matches a request without it).
 */
const ORG_ITEMS_ONLY: readonly PolicyCondition[] = [
  { test: "ForAllValues:StringLike", variable: "dynamodb:LeadingKeys", values: ["ORG#*"] },
  { test: "Null", variable: "dynamodb:LeadingKeys", values: ["false"] },
];

/** The keep-alive's schedule; DEFAULT_KEEP_ALIVE (packages/core) assumes 15 minutes. */
export const KEEP_ALIVE_SCHEDULE = "rate(15 minutes)";

export function createLifecycle({ storage, keys }: { storage: Storage; keys: Keys }) {
  const copy = (list: readonly PolicyCondition[]) => list.map((c) => ({ ...c, values: [...c.values] }));
  const statements = [
    { actions: [...tokenAccess.table], resources: [storage.table.arn], conditions: copy(ORG_ITEMS_ONLY) },
    {
      actions: [...tokenAccess.dataKey],
      resources: [keys.dataKey.key.arn],
      conditions: copy(keys.dataKey.conditions),
    },
  ];

  const logGroup = new aws.cloudwatch.LogGroup("KeepAliveLogs", {
    name: `/aws/lambda/${$app.name}/${$app.stage}/KeepAlive`,
    retentionInDays: 30,
  });
  const keepAlive = new sst.aws.Function("KeepAlive", {
    ...FUNCTION_DEFAULTS,
    // One run visits every connector; it starts no refresh in its last 45 seconds.
    timeout: "5 minutes",
    // A failed run is not retried: the next one starts 15 minutes later and would overlap a retry.
    retries: 0,
    handler: "functions/src/keep-alive.handler",
    description: "Refreshes expiring tokens and touches idle grants (scheduled)",
    logging: { logGroup: logGroup.name, format: "json" },
    link: [storage.link, keys.dataKey.link],
    permissions: [
      ...statements,
      // Listing every org's authenticated connectors: a Scan cannot be limited by leading keys.
      { actions: ["dynamodb:Scan"], resources: [storage.table.arn] },
      {
        actions: ["logs:CreateLogStream", "logs:PutLogEvents"],
        resources: [$interpolate`${logGroup.arn}:*`],
      },
    ],
    transform: {
      role: (args) => {
        args.managedPolicyArns = [];
      },
    },
  });
  // EventBridge Scheduler, through a role allowed lambda:InvokeFunction on this function only.
  const schedule = new sst.aws.CronV2("KeepAliveSchedule", {
    schedule: KEEP_ALIVE_SCHEDULE,
    function: keepAlive,
    transform: {
      role: (args) => {
        args.managedPolicyArns = [];
      },
    },
  });

  const consumerPolicy = new aws.iam.Policy("TokenConsumerPolicy", {
    description: `${$app.name} ${$app.stage}: read, refresh and disconnect connector tokens (sync workers)`,
    policy: $jsonStringify({
      Version: "2012-10-17",
      Statement: statements.map((s) => ({
        Effect: "Allow",
        Action: s.actions,
        Resource: s.resources,
        Condition: policyCondition(s.conditions),
      })),
    }),
  });
  const account = aws.getCallerIdentityOutput({}).accountId;
  const partition = aws.getPartitionOutput({}).partition;
  const consumerRole = new aws.iam.Role("TokenConsumerRole", {
    description: `${$app.name} ${$app.stage}: sync workers that use connector tokens`,
    // Principals of this account whose own IAM policy allows sts:AssumeRole on it, and Lambda
    // functions and ECS tasks that run as it.
    assumeRolePolicy: $jsonStringify({
      Version: "2012-10-17",
      Statement: [
        {
          Effect: "Allow",
          Principal: { AWS: $interpolate`arn:${partition}:iam::${account}:root` },
          Action: "sts:AssumeRole",
        },
        {
          Effect: "Allow",
          Principal: { Service: ["lambda.amazonaws.com", "ecs-tasks.amazonaws.com"] },
          Action: "sts:AssumeRole",
        },
      ],
    }),
  });
  // An attachment, not the role's exclusive managedPolicyArns: a worker running as this role (its
  // Lambda execution role, its ECS task role) needs its own other permissions attached to it too.
  new aws.iam.RolePolicyAttachment("TokenConsumerPolicyAttachment", {
    role: consumerRole.name,
    policyArn: consumerPolicy.arn,
  });

  /** Their statements in the data key's policy (stacks/keys.ts restrictKeyUse, via createApi). */
  const dataKeyUses: KeyUse[] = [
    { name: "KeepAlive", roleArn: keepAlive.nodes.role.arn, actions: tokenAccess.dataKey },
    { name: "TokenConsumer", roleArn: consumerRole.arn, actions: tokenAccess.dataKey },
  ];
  return { keepAlive, schedule, consumerPolicy, consumerRole, dataKeyUses };
}

export type Lifecycle = ReturnType<typeof createLifecycle>;
