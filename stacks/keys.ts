/**
 * The two KMS keys (there is no SST component for KMS, so these are aws.kms resources exposed with
 * sst.Linkable):
 * - StateKey: HMAC_256 (GENERATE_VERIFY_MAC); signs and verifies the OAuth `state` (HMAC_SHA_256).
 *   KMS does not rotate HMAC keys; a new key would invalidate only the states in flight (10 min).
 * - DataKey: symmetric (SYMMETRIC_DEFAULT) with yearly automatic rotation; wraps the per-write data
 *   keys of the token envelope. Rotated keys keep decrypting older ciphertexts.
 *
 * Each key's policy lets the account administer the key but not use it; only the roles of the
 * functions functions/src/routes.ts (the route table) names, and the keep-alive and token consumer roles of
 * stacks/lifecycle.ts (data key), may call their listed actions, under the conditions below (per
 * purpose for the data key). The same statements go into each role's IAM policy, so both policies
 * must agree to allow a call.
 */
import type { DataKeyGrant, Purpose } from "@connector-oauth/functions/routes";

/**
 * The keys of the envelopes' encryption context (packages/aws/src/kms.ts). `config` is the digest of
 * the connector's security-relevant configuration that envelopes v2 carry (issue 9); required, since
 * version 1 envelopes (without it) are refused by the code anyway (packages/core/src/envelope.ts).
 */
export const ENVELOPE_CONTEXT_KEYS = ["orgId", "connectorId", "purpose", "config"] as const;

/** What packages/aws/src/kms.ts sends to the HMAC key; a call that differs is refused. */
const STATE_KEY_CONDITIONS: readonly PolicyCondition[] = [
  { test: "StringEquals", variable: "kms:MacAlgorithm", values: ["HMAC_SHA_256"] },
];

/** Data key use for the given purposes: the encryption context must name org, connector and purpose. */
function dataKeyConditions(purposes: readonly Purpose[]): PolicyCondition[] {
  return [
    // The encryption context has no keys but these...
    {
      test: "ForAllValues:StringEquals",
      variable: "kms:EncryptionContextKeys",
      values: ENVELOPE_CONTEXT_KEYS,
    },
    // ...and cannot be omitted (ForAllValues alone also matches a request without any context)...
    { test: "Null", variable: "kms:EncryptionContextKeys", values: ["false"] },
    { test: "Null", variable: "kms:EncryptionContext:orgId", values: ["false"] },
    { test: "Null", variable: "kms:EncryptionContext:connectorId", values: ["false"] },
    { test: "Null", variable: "kms:EncryptionContext:config", values: ["false"] },
    // ...and its purpose is one this grant is for.
    { test: "StringEquals", variable: "kms:EncryptionContext:purpose", values: purposes },
  ];
}

/** One statement of a role on a key: the same actions and conditions in its IAM policy and the key's. */
export interface KeyStatement {
  actions: readonly string[];
  conditions: readonly PolicyCondition[];
}

export function stateKeyStatements(actions: readonly string[]): KeyStatement[] {
  return [{ actions, conditions: STATE_KEY_CONDITIONS }];
}

export function dataKeyStatements(grants: readonly DataKeyGrant[]): KeyStatement[] {
  return grants.map((grant) => ({ actions: grant.actions, conditions: dataKeyConditions(grant.purposes) }));
}

/** Management without use: no Encrypt/Decrypt/GenerateDataKey/*Mac and no CreateGrant. */
const ADMIN_ACTIONS = [
  "kms:DescribeKey",
  "kms:GetKeyPolicy",
  "kms:PutKeyPolicy",
  "kms:ListKeyPolicies",
  "kms:GetKeyRotationStatus",
  "kms:EnableKeyRotation",
  "kms:DisableKeyRotation",
  "kms:ListKeyRotations",
  "kms:ListResourceTags",
  "kms:TagResource",
  "kms:UntagResource",
  "kms:ListGrants",
  "kms:RevokeGrant",
  "kms:EnableKey",
  "kms:DisableKey",
  "kms:UpdateKeyDescription",
  "kms:CreateAlias",
  "kms:UpdateAlias",
  "kms:DeleteAlias",
  "kms:ScheduleKeyDeletion",
  "kms:CancelKeyDeletion",
];

/** An IAM condition in the list form functions take (a key's or another one, e.g. stacks/lifecycle.ts). */
export interface PolicyCondition {
  test: string;
  variable: string;
  values: readonly $util.Input<string>[];
}

export interface Key {
  name: "StateKey" | "DataKey";
  key: aws.kms.Key;
  link: sst.Linkable<{ arn: $util.Output<string> }>;
}

/** A key, its alias and its link; on retaining stages the key outlives `sst remove` like the table. */
function createKey(name: "StateKey" | "DataKey", purpose: string, args: aws.kms.KeyArgs): Key {
  const key = new aws.kms.Key(
    `${name}Kms`,
    { description: `${$app.name} ${$app.stage}: ${purpose}`, deletionWindowInDays: 30, ...args },
    // A retained table is unreadable without its data key, so keys follow the table's removal policy.
    { retainOnDelete: $app.removal !== "remove" },
  );
  new aws.kms.Alias(`${name}Alias`, {
    name: `alias/${$app.name}/${$app.stage}/${name}`,
    targetKeyId: key.keyId,
  });
  const link = new sst.Linkable(name, { properties: { arn: key.arn } });
  return { name, key, link };
}

export function createKeys() {
  return {
    stateKey: createKey("StateKey", "signs OAuth state", {
      keyUsage: "GENERATE_VERIFY_MAC",
      customerMasterKeySpec: "HMAC_256",
    }),
    dataKey: createKey("DataKey", "envelope encryption of tokens and client secrets", {
      keyUsage: "ENCRYPT_DECRYPT",
      customerMasterKeySpec: "SYMMETRIC_DEFAULT",
      enableKeyRotation: true,
      rotationPeriodInDays: 365,
    }),
  };
}

export type Keys = ReturnType<typeof createKeys>;

/** One role's use of a key: a function's (functions/src/routes.ts (the route table), stacks/lifecycle.ts) or a consumer's. */
export interface KeyUse {
  name: string;
  roleArn: $util.Output<string>;
  statements: readonly KeyStatement[];
}

/** A role's IAM statements for its key statements (the key policy repeats them, stacks/api.ts). */
export function keyPermissions(key: Key, statements: readonly KeyStatement[]) {
  return statements.map((statement) => ({
    actions: [...statement.actions],
    resources: [key.key.arn],
    conditions: statement.conditions.map((c) => ({ ...c, values: [...c.values] })),
  }));
}

/** IAM condition blocks ({ test: { variable: values } }) from the list form functions take. */
export function policyCondition(
  list: readonly PolicyCondition[],
): Record<string, Record<string, $util.Input<string>[]>> {
  const result: Record<string, Record<string, $util.Input<string>[]>> = {};
  for (const { test, variable, values } of list) {
    result[test] = { ...result[test], [variable]: [...values] };
  }
  return result;
}

/**
 * Replaces the key's default policy (which delegates everything to IAM). A separate KeyPolicy
 * resource, because the roles it names are created after the key (their IAM policies name the key).
 *
 * Each use is granted to the account, for that role only (`aws:PrincipalArn`), not to the role
 * itself: a key policy naming the role would allow the call on its own, whatever the role's IAM
 * policy says, while the account principal delegates to IAM, so the role's IAM policy must allow it
 * too (AWS KMS Developer Guide, "Allows access to the AWS account and enables IAM policies"). That is
 * what keeps the identity policies' `lambda:SourceFunctionArn` condition in force for key use: the
 * key cannot repeat it, as that key cannot be used in resource-based policies (AWS Lambda Developer
 * Guide, "Using source function ARN to control function access behavior").
 */
export function restrictKeyUse(key: Key, uses: KeyUse[]) {
  const account = aws.getCallerIdentityOutput({}).accountId;
  const partition = aws.getPartitionOutput({}).partition;
  const root = $interpolate`arn:${partition}:iam::${account}:root`;
  return new aws.kms.KeyPolicy(`${key.name}Policy`, {
    keyId: key.key.keyId,
    policy: $jsonStringify({
      Version: "2012-10-17",
      Statement: [
        {
          Sid: "AccountAdministersKey",
          Effect: "Allow",
          Principal: { AWS: root },
          Action: ADMIN_ACTIONS,
          Resource: "*",
        },
        ...uses.flatMap((use) =>
          use.statements.map((statement) => ({
            // e.g. CallbackDecrypt: Sids are unique (one statement per role and action set).
            Sid: `${use.name}${statement.actions.map((action) => action.replace(/^kms:/, "")).join("")}`,
            Effect: "Allow",
            Principal: { AWS: root },
            Action: statement.actions,
            Resource: "*",
            Condition: policyCondition([
              ...statement.conditions,
              { test: "ArnEquals", variable: "aws:PrincipalArn", values: [use.roleArn] },
            ]),
          })),
        ),
      ],
    }),
  });
}
