/**
 * The refresh lease as a DynamoDB item next to its connector (same table, same partition):
 *   pk "ORG#<orgId>"  sk "LEASE#<connectorId>"  owner, until (epoch ms), ttl (epoch seconds)
 * Taking it is one conditional PutItem (no item, or an expired one); releasing it is one DeleteItem
 * conditioned on the owner. `ttl` only lets DynamoDB sweep leases whose holder crashed: expiry is
 * decided by `until`, since DynamoDB deletes expired items late.
 */
import {
  ConditionalCheckFailedException,
  DeleteItemCommand,
  type DynamoDBClient,
  PutItemCommand,
} from "@aws-sdk/client-dynamodb";
import { marshall } from "@aws-sdk/util-dynamodb";
import { fail } from "../../core/src/errors.ts";
import type { LeaseStore } from "../../core/src/ports.ts";

/** Swept a day after expiry; a lease item lives seconds when its holder does not crash. */
const SWEEP_AFTER_SECONDS = 24 * 3600;

const leaseKey = (orgId: string, connectorId: string) => ({
  pk: `ORG#${orgId}`,
  sk: `LEASE#${connectorId}`,
});

/** Runs one conditional write: resolves false when its condition failed, 503 on any other failure. */
async function conditional(send: () => Promise<unknown>): Promise<boolean> {
  try {
    await send();
    return true;
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return false;
    throw fail("dependency_unavailable", "The database is unavailable", error);
  }
}

/** LeaseStore over the service's table. */
export function dynamoLeaseStore(client: DynamoDBClient, tableName: string): LeaseStore {
  return {
    acquire({ orgId, connectorId, owner, now, ttlMs }) {
      const until = now + ttlMs;
      const command = new PutItemCommand({
        TableName: tableName,
        Item: marshall({
          ...leaseKey(orgId, connectorId),
          owner,
          until,
          ttl: Math.ceil(until / 1000) + SWEEP_AFTER_SECONDS,
        }),
        ConditionExpression: "attribute_not_exists(pk) OR #until <= :now",
        ExpressionAttributeNames: { "#until": "until" },
        ExpressionAttributeValues: marshall({ ":now": now }),
      });
      return conditional(() => client.send(command));
    },

    async release({ orgId, connectorId, owner }) {
      const command = new DeleteItemCommand({
        TableName: tableName,
        Key: marshall(leaseKey(orgId, connectorId)),
        ConditionExpression: "#owner = :owner",
        ExpressionAttributeNames: { "#owner": "owner" },
        ExpressionAttributeValues: marshall({ ":owner": owner }),
      });
      await conditional(() => client.send(command));
    },
  };
}
