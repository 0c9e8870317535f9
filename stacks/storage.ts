/**
 * The single DynamoDB table: connectors and flow records under `pk`/`sk` (strings), flow records
 * expiring through the `ttl` attribute (epoch seconds; DynamoDB deletes late, the code checks expiry
 * itself). Same keys as packages/aws/src/table.ts creates locally.
 *
 * Linked as `Table` with its name only: linking an sst.aws.Dynamo would grant dynamodb:*, so each
 * function gets named actions on this ARN instead (stacks/handlers.ts).
 */
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
