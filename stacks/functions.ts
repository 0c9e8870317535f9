/**
 * One rule for every Lambda function of the app, present and future: `enforceFunctionRoles()`
 * registers an SST `$transform` on `sst.aws.Function`, so each function created after it (the three
 * route handlers, KeepAlive, any added later) gets:
 * - a fixed name, `<app>-<stage>-<Name>`, so its ARN is known before it exists;
 * - an execution role trusted by `lambda.amazonaws.com` only, and only for this account
 *   (`aws:SourceAccount`) and this function (`aws:SourceArn`, when Lambda sends it);
 * - no managed policies (each function writes to its own log group, granted by its own statement);
 * - every one of its permissions conditioned on `lambda:SourceFunctionArn` being this function: Lambda
 *   adds that key to every request made with the role's credentials from inside the function's
 *   execution environment, and to the log writes it makes for the function (Lambda Developer Guide,
 *   "Using source function ARN to control function access behavior"), so credentials copied out of
 *   the function (its environment variables, a server-side request forgery) are refused elsewhere;
 * - a bundle whose AWS clients read credentials from the environment only (the esbuild plugin
 *   stacks/esbuild/lean-credentials.mjs, also used by the bench and test/infra): the default chain
 *   (SSO, INI, process, STS, metadata providers) is left out, about 30% of each bundle. Lambda
 *   always sets the role's credentials as environment variables (docs/benchmark.md#lean-credentials).
 *   Not under `sst dev`, whose functions run on the developer's machine with its own credentials.
 *
 * Why: SST 4.17.1 renders every function role with its `sst dev` trust policy (Lambda and
 * `arn:aws:iam::<account>:root`) in every stage: in .sst/platform/src/components/aws/function.ts the
 * role's `assumeRolePolicy` tests `!dev`, and `dev` is a Pulumi Output, always truthy. Any principal
 * of the account allowed `sts:AssumeRole` on `*` could then become, say, the callback role.
 * test/infra asserts the rendered trust policy of every function and evaluates it with
 * @cloud-copilot/iam-simulate, so a change in SST cannot silently undo this.
 */
import { PLUGINS_FILE } from "./esbuild/lean-credentials.mjs";

/** The app's name for a function; at most 64 characters (stage names are limited in sst.config.ts). */
export function functionName(name: string): string {
  return `${$app.name}-${$app.stage}-${name}`;
}

/** The function's ARN, from its fixed name: no dependency on the function itself. */
export function functionArn(name: string): $util.Output<string> {
  const { account, partition, region } = awsContext();
  return $interpolate`arn:${partition}:lambda:${region}:${account}:function:${functionName(name)}`;
}

export function awsContext() {
  return {
    account: aws.getCallerIdentityOutput({}).accountId,
    partition: aws.getPartitionOutput({}).partition,
    region: aws.getRegionOutput({}).region,
  };
}

/**
 * The execution role's trust policy. `aws:SourceAccount` is required. `aws:SourceArn` is checked
 * when present (`ArnEqualsIfExists`): AWS documents both keys for service principals acting on a
 * resource's behalf (IAM User Guide, "Cross-service confused deputy prevention"), but Lambda's own
 * documentation does not promise `aws:SourceArn` on the AssumeRole of an execution role, and a
 * required key that never comes would lock the function out of its role.
 */
export function lambdaTrustPolicy(name: string): $util.Output<string> {
  const { account } = awsContext();
  return $jsonStringify({
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "LambdaOfThisAccountOnly",
        Effect: "Allow",
        Principal: { Service: "lambda.amazonaws.com" },
        Action: "sts:AssumeRole",
        Condition: {
          StringEquals: { "aws:SourceAccount": account },
          ArnEqualsIfExists: { "aws:SourceArn": functionArn(name) },
        },
      },
    ],
  });
}

/**
 * SST's `nodejs.plugins` (PLUGINS_FILE, the plugin module's own path): a file exporting a list of
 * esbuild plugins, relative to the directory `sst` runs in: SST 4.17.1 joins it to its working
 * directory, so `sst deploy` must run from the repository root (where sst.config.ts is), or SST
 * looks for the file under another directory.
 */
const LEAN_CREDENTIALS_PLUGINS = PLUGINS_FILE;

type NodeOptions = NonNullable<$util.Unwrap<sst.aws.FunctionArgs["nodejs"]>>;

/** The function's bundling options with the lean-credentials plugins file (one file per function). */
function withLeanCredentials(nodejs: NodeOptions | undefined, name: string): NodeOptions {
  if (nodejs?.plugins && nodejs.plugins !== LEAN_CREDENTIALS_PLUGINS) {
    throw new Error(
      `Function ${name}: nodejs.plugins is set (${nodejs.plugins}); SST takes one plugins file, so ` +
        `add leanCredentials() from ${LEAN_CREDENTIALS_PLUGINS} to it and remove this check`,
    );
  }
  return { ...nodejs, plugins: LEAN_CREDENTIALS_PLUGINS };
}

type RoleTransform = NonNullable<NonNullable<sst.aws.FunctionArgs["transform"]>["role"]>;

/** Call once in run(), before any function is created. */
export function enforceFunctionRoles(): void {
  $transform(sst.aws.Function, (args, _opts, name) => {
    args.name ??= functionName(name);
    if (!$dev) args.nodejs = $output(args.nodejs).apply((nodejs) => withLeanCredentials(nodejs, name));
    if (args.permissions) {
      const permissions = $output(args.permissions);
      args.permissions = $resolve([permissions, functionArn(name)] as const).apply(([list, arn]) =>
        list.map((permission) => ({
          ...permission,
          conditions: [
            ...(permission.conditions ?? []),
            { test: "ArnEquals", variable: "lambda:SourceFunctionArn", values: [arn] },
          ],
        })),
      );
    }
    const own: RoleTransform | undefined = args.transform?.role;
    args.transform = {
      ...args.transform,
      role: (roleArgs, roleOpts, roleName) => {
        // The function's own role transform first; this rule has the last word.
        if (typeof own === "function") own(roleArgs, roleOpts, roleName);
        else if (own) Object.assign(roleArgs, own);
        roleArgs.assumeRolePolicy = lambdaTrustPolicy(name);
        roleArgs.managedPolicyArns = [];
        return undefined;
      },
    };
  });
}
