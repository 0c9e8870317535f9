/**
 * The single DynamoDB table: connectors and flow records under `pk`/`sk` (strings), flow records
 * expiring through the `ttl` attribute (epoch seconds; DynamoDB deletes late, the code checks expiry
 * itself). Same keys as packages/aws/src/table.ts creates locally.
 *
 * Linked as `Table` with its name only: linking an sst.aws.Dynamo would grant dynamodb:*, so each
 * function gets named actions on this ARN instead, per key prefix (functions/src/routes.ts (the route table)).
 */
import type { TableGrant } from "@connector-oauth/functions/routes";
export function createStorage() {
  const table = new aws.dynamodb.Table(
    "DataTable",
    {
      name: `${$app.name}-${$app.stage}`,
      billingMode: "PAY_PER_REQUEST",
      hashKey: "pk",
      rangeKey: "sk",
      attributes: [
        { name: "pk", type: "S" },
        { name: "sk", type: "S" },
      ],
      ttl: { attributeName: "ttl", enabled: true },
      pointInTimeRecovery: { enabled: true },
      // Protected stages (production, see sst.config.ts) refuse deletion and outlive `sst remove`.
      deletionProtectionEnabled: $app.protect,
    },
    { retainOnDelete: $app.removal !== "remove" },
  );

  const link = new sst.Linkable("Table", {
    properties: { name: table.name },
  });

  return { table, link };
}

export type Storage = ReturnType<typeof createStorage>;

/**
 * IAM statements for item grants: each limited to items whose partition key matches its prefixes.
 * The Null test makes the key's presence explicit (ForAllValues alone also matches a request that
 * names no key, such as a Scan).
 */
export function tablePermissions(storage: Storage, grants: readonly TableGrant[]) {
  return grants.map((grant) => ({
    actions: [...grant.actions],
    resources: [storage.table.arn],
    conditions: [
      { test: "ForAllValues:StringLike", variable: "dynamodb:LeadingKeys", values: [...grant.items] },
      { test: "Null", variable: "dynamodb:LeadingKeys", values: ["false"] },
    ],
  }));
}
