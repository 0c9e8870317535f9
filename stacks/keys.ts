/**
 * The two KMS keys (there is no SST component for KMS, so these are aws.kms resources exposed with
 * sst.Linkable):
 * - StateKey: HMAC_256 (GENERATE_VERIFY_MAC); signs and verifies the OAuth `state` (HMAC_SHA_256).
 *   KMS does not rotate HMAC keys; a new key would invalidate only the states in flight (10 min).
 * - DataKey: symmetric (SYMMETRIC_DEFAULT) with yearly automatic rotation; wraps the per-write data
 *   keys of the token envelope. Rotated keys keep decrypting older ciphertexts.
 *
 * Each key's policy lets the account administer the key but not use it; only the roles of the
 * functions stacks/handlers.ts names, and the keep-alive and token consumer roles of
 * stacks/lifecycle.ts (data key), may call their listed actions, under the conditions below. The
 * same conditions go into each role's IAM statement, so both policies must agree to allow a call.
 */

/** What packages/aws/src/kms.ts sends; a call that differs is refused. */
const conditions = {
  stateKey: [{ test: "StringEquals", variable: "kms:MacAlgorithm", values: ["HMAC_SHA_256"] }],
  dataKey: [
    // The encryption context has no keys but these four (config: the configuration digest)...
    {
      test: "ForAllValues:StringEquals",
      variable: "kms:EncryptionContextKeys",
      values: ["orgId", "connectorId", "purpose", "config"],
    },
    // ...and cannot be omitted (ForAllValues alone also matches a request without any context)...
    { test: "Null", variable: "kms:EncryptionContextKeys", values: ["false"] },
    { test: "Null", variable: "kms:EncryptionContext:orgId", values: ["false"] },
    { test: "Null", variable: "kms:EncryptionContext:connectorId", values: ["false"] },
    { test: "Null", variable: "kms:EncryptionContext:config", values: ["false"] },
    // ...and names one of the two purposes the code seals.
    { test: "StringEquals", variable: "kms:EncryptionContext:purpose", values: ["client-secret", "tokens"] },
  ],
} as const;

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

export type KeyCondition = (typeof conditions)[keyof typeof conditions][number];

/** An IAM condition in the list form functions take (a key's or another one, e.g. stacks/lifecycle.ts). */
export interface PolicyCondition {
  test: string;
  variable: string;
  values: readonly string[];
}

export interface Key {
  name: "StateKey" | "DataKey";
  key: aws.kms.Key;
  link: sst.Linkable<{ arn: $util.Output<string> }>;
  conditions: readonly KeyCondition[];
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
  return { name, key, link, conditions: name === "StateKey" ? conditions.stateKey : conditions.dataKey };
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

/** One role's use of a key: a function's (stacks/handlers.ts, stacks/lifecycle.ts) or a consumer's. */
export interface KeyUse {
  name: string;
  roleArn: $util.Output<string>;
  actions: readonly string[];
}

/** IAM condition blocks ({ test: { variable: values } }) from the list form functions take. */
export function policyCondition(list: readonly PolicyCondition[]): Record<string, Record<string, string[]>> {
  const result: Record<string, Record<string, string[]>> = {};
  for (const { test, variable, values } of list) {
    result[test] = { ...result[test], [variable]: [...values] };
  }
  return result;
}

/**
 * Replaces the key's default policy (which delegates everything to IAM). A separate KeyPolicy
 * resource, because the roles it names are created after the key (their IAM policies name the key).
 */
export function restrictKeyUse(key: Key, uses: KeyUse[]) {
  const account = aws.getCallerIdentityOutput({}).accountId;
  const partition = aws.getPartitionOutput({}).partition;
  return new aws.kms.KeyPolicy(`${key.name}Policy`, {
    keyId: key.key.keyId,
    policy: $jsonStringify({
      Version: "2012-10-17",
      Statement: [
        {
          Sid: "AccountAdministersKey",
          Effect: "Allow",
          Principal: { AWS: $interpolate`arn:${partition}:iam::${account}:root` },
          Action: ADMIN_ACTIONS,
          Resource: "*",
        },
        ...uses.map((use) => ({
          Sid: `${use.name}UsesKey`,
          Effect: "Allow",
          Principal: { AWS: use.roleArn },
          Action: use.actions,
          Resource: "*",
          Condition: policyCondition(key.conditions),
        })),
      ],
    }),
  });
}
