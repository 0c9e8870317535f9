/**
 * Token lifecycle outside the HTTP API (docs/token-access.md):
 * - KeepAlive: a function run by an EventBridge Scheduler schedule every 15 minutes (not behind API
 *   Gateway); it refreshes tokens about to expire and touches idle grants
 *   (functions/src/keep-alive.ts). Linked to the table and the data key only.
 * - Token consumers (sync workers): the least privilege getAccessToken / refresh / disconnect need
 *   (packages/aws/src/lifecycle.ts), as a managed policy and a role that carries it. The data key's
 *   policy names that role (as it names each function's role), so a worker runs as the role (its
 *   Lambda execution role or ECS task role) or, if the stage names it in TokenConsumerPrincipals,
 *   assumes it; attaching the policy to another role is not enough for KMS.
 */

import { TOKEN_ACCESS } from "@connector-oauth/functions/routes";
import { FUNCTION_DEFAULTS } from "./api.ts";
import { awsContext } from "./functions.ts";
import { dataKeyStatements, type Keys, type KeyUse, keyPermissions, policyCondition } from "./keys.ts";
import { type Storage, tablePermissions } from "./storage.ts";

/** The token operations' grants (functions/src/routes.ts, shared with the token API's function). */
export const tokenAccess = TOKEN_ACCESS;

/** The keep-alive's schedule; DEFAULT_KEEP_ALIVE (packages/core) assumes 15 minutes. */
export const KEEP_ALIVE_SCHEDULE = "rate(15 minutes)";

export function createLifecycle({
  storage,
  keys,
  consumerPrincipals,
}: {
  storage: Storage;
  keys: Keys;
  /** Role or user ARNs allowed to assume the token consumer role (stage setting, may be empty). */
  consumerPrincipals: $util.Output<string[]>;
}) {
  const dataKeyUse = dataKeyStatements(tokenAccess.dataKey);
  const statements = [
    ...tablePermissions(storage, tokenAccess.table),
    ...keyPermissions(keys.dataKey, dataKeyUse),
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
  });
  // EventBridge Scheduler, through a role allowed lambda:InvokeFunction on this function only and
  // trusted by Scheduler acting for this account only (aws:SourceAccount, as the EventBridge
  // Scheduler User Guide's "Set up the execution role" recommends against the confused deputy).
  const { account } = awsContext();
  const schedule = new sst.aws.CronV2("KeepAliveSchedule", {
    schedule: KEEP_ALIVE_SCHEDULE,
    function: keepAlive,
    transform: {
      role: (args) => {
        args.managedPolicyArns = [];
        args.assumeRolePolicy = $jsonStringify({
          Version: "2012-10-17",
          Statement: [
            {
              Sid: "SchedulerOfThisAccountOnly",
              Effect: "Allow",
              Principal: { Service: "scheduler.amazonaws.com" },
              Action: "sts:AssumeRole",
              Condition: { StringEquals: { "aws:SourceAccount": account } },
            },
          ],
        });
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
  const consumerRole = new aws.iam.Role("TokenConsumerRole", {
    description: `${$app.name} ${$app.stage}: sync workers that use connector tokens`,
    assumeRolePolicy: consumerTrustPolicy(account, consumerPrincipals),
  });
  // An attachment, not the role's exclusive managedPolicyArns: a worker running as this role (its
  // Lambda execution role, its ECS task role) needs its own other permissions attached to it too.
  new aws.iam.RolePolicyAttachment("TokenConsumerPolicyAttachment", {
    role: consumerRole.name,
    policyArn: consumerPolicy.arn,
  });

  /** Their statements in the data key's policy (stacks/keys.ts restrictKeyUse, via createApi). */
  const dataKeyUses: KeyUse[] = [
    {
      name: "KeepAlive",
      roleArn: keepAlive.nodes.role.arn,
      statements: dataKeyUse,
    },
    { name: "TokenConsumer", roleArn: consumerRole.arn, statements: dataKeyUse },
  ];
  return { keepAlive, schedule, consumerPolicy, consumerRole, dataKeyUses };
}

export type Lifecycle = ReturnType<typeof createLifecycle>;

/**
 * Who may become the token consumer: Lambda functions and ECS tasks of this account that run as it
 * (`aws:SourceAccount`), and only the principals the stage names in `TokenConsumerPrincipals`,
 * never "any principal of the account" (the account root as principal would delegate the decision
 * to every IAM policy in the account that allows sts:AssumeRole on `*`).
 */
function consumerTrustPolicy(account: $util.Output<string>, principals: $util.Output<string[]>) {
  return $jsonStringify({
    Version: "2012-10-17",
    Statement: $resolve([account, principals]).apply(([accountId, named]) => [
      {
        Sid: "WorkersOfThisAccountRunAsIt",
        Effect: "Allow",
        Principal: { Service: ["lambda.amazonaws.com", "ecs-tasks.amazonaws.com"] },
        Action: "sts:AssumeRole",
        Condition: { StringEquals: { "aws:SourceAccount": accountId } },
      },
      ...(named.length > 0
        ? [
            {
              Sid: "NamedPrincipalsAssumeIt",
              Effect: "Allow",
              Principal: { AWS: named },
              Action: "sts:AssumeRole",
            },
          ]
        : []),
    ]),
  });
}
