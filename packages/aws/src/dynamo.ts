/**
 * DynamoDB adapters for connectors and flows: one table, single-item conditional writes only
 * (no transactions: dynalite has none, and none are needed).
 *
 * Items:
 *   connector  pk "ORG#<orgId>"   sk "CONNECTOR#<connectorId>"  config, status, version, tokens
 *              (the sealed refresh token sits in its own attribute `refreshToken`, so a token set
 *              without one leaves it untouched)
 *   flow       pk "FLOW#<nonce>"   sk "FLOW"                    flow record, `ttl` (epoch seconds)
 *   lease      pk "ORG#<orgId>"   sk "LEASE#<connectorId>"      refresh lease (leases.ts)
 */
import {
  ConditionalCheckFailedException,
  DeleteItemCommand,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  ScanCommand,
  UpdateItemCommand,
} from "@aws-sdk/client-dynamodb";
import { marshall, unmarshall } from "@aws-sdk/util-dynamodb";
import type { ConnectorConfig, ConnectorRecord } from "../../core/src/connectors.ts";
import type { Sealed } from "../../core/src/envelope.ts";
import { fail, ServiceError } from "../../core/src/errors.ts";
import { FLOW_RETENTION_SECONDS, type FlowRecord } from "../../core/src/flows.ts";
import type { ConnectorStore, FlowStore, SaveTokensInput } from "../../core/src/ports.ts";

type Item = Record<string, unknown>;
const toAttributes = (value: Item) => marshall(value, { removeUndefinedValues: true });

const connectorKey = (orgId: string, connectorId: string) =>
  toAttributes({ pk: `ORG#${orgId}`, sk: `CONNECTOR#${connectorId}` });
const flowKey = (nonce: string) => toAttributes({ pk: `FLOW#${nonce}`, sk: "FLOW" });

/** Runs one DynamoDB call; a failed condition resolves `undefined`, any other failure is a 503. */
async function call<T>(run: () => Promise<T>): Promise<T | undefined> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return undefined;
    if (error instanceof ServiceError) throw error;
    throw fail("dependency_unavailable", "The database is unavailable", error);
  }
}

function toConnector(item: Item | undefined): ConnectorRecord | undefined {
  if (!item) return undefined;
  const { pk: _pk, sk: _sk, refreshToken, ...record } = item;
  const connector = record as unknown as ConnectorRecord;
  if (connector.tokens && refreshToken) connector.tokens.refresh = refreshToken as Sealed;
  return connector;
}

/** Builds `SET a = :a, ...` / `REMOVE b` over named values; undefined values are removed. */
function updateOf(set: Item, options: { remove?: string[]; raw?: string[] } = {}) {
  const names: Record<string, string> = {};
  const values: Item = {};
  const sets = [...(options.raw ?? [])];
  const removes: string[] = [];
  for (const [name, value] of Object.entries(set)) {
    if (value === undefined) {
      if (!options.remove?.includes(name)) continue;
      names[`#${name}`] = name;
      removes.push(`#${name}`);
      continue;
    }
    names[`#${name}`] = name;
    values[`:${name}`] = value;
    sets.push(`#${name} = :${name}`);
  }
  const expression = `SET ${sets.join(", ")}${removes.length ? ` REMOVE ${removes.join(", ")}` : ""}`;
  return { names, values, expression };
}

const OPTIONAL_CONFIG = ["name", "scopes", "params", "endpoints", "redirectUri", "isEnabled"];

export function dynamoConnectorStore(client: DynamoDBClient, tableName: string): ConnectorStore {
  return {
    async get(orgId, connectorId) {
      const command = new GetItemCommand({
        TableName: tableName,
        Key: connectorKey(orgId, connectorId),
        ConsistentRead: true,
      });
      const result = await call(() => client.send(command));
      return toConnector(result?.Item && unmarshall(result.Item));
    },

    async list(orgId) {
      const records: ConnectorRecord[] = [];
      let start: Record<string, import("@aws-sdk/client-dynamodb").AttributeValue> | undefined;
      do {
        const command = new QueryCommand({
          TableName: tableName,
          KeyConditionExpression: "pk = :pk AND begins_with(sk, :prefix)",
          ExpressionAttributeValues: toAttributes({ ":pk": `ORG#${orgId}`, ":prefix": "CONNECTOR#" }),
          ExclusiveStartKey: start,
        });
        const page = await call(() => client.send(command));
        for (const item of page?.Items ?? []) records.push(toConnector(unmarshall(item)) as ConnectorRecord);
        start = page?.LastEvaluatedKey;
      } while (start);
      return records;
    },

    async saveDefinition(config: ConnectorConfig, by, now) {
      const { orgId, connectorId, clientSecret, ...rest } = config;
      const stamp = new Date(now).toISOString();
      const update = updateOf(
        {
          ...Object.fromEntries(OPTIONAL_CONFIG.map((k) => [k, undefined])),
          ...rest,
          clientSecret,
          orgId,
          connectorId,
        },
        {
          remove: OPTIONAL_CONFIG,
          raw: [
            "createdAt = if_not_exists(createdAt, :stamp)",
            "updatedAt = :stamp",
            "lastUpdatedBy = :by",
            "#status = if_not_exists(#status, :notConnected)",
            "version = if_not_exists(version, :zero) + :one",
          ],
        },
      );
      const command = new UpdateItemCommand({
        TableName: tableName,
        Key: connectorKey(orgId, connectorId),
        UpdateExpression: update.expression,
        ExpressionAttributeNames: { ...update.names, "#status": "status" },
        ExpressionAttributeValues: toAttributes({
          ...update.values,
          ...{ ":stamp": stamp, ":by": by, ":notConnected": "not_connected", ":zero": 0, ":one": 1 },
        }),
        ReturnValues: "ALL_NEW",
      });
      const result = await call(() => client.send(command));
      return toConnector(result?.Attributes && unmarshall(result.Attributes)) as ConnectorRecord;
    },

    async saveTokens(input: SaveTokensInput) {
      const { refresh, ...tokens } = input.tokens;
      const update = updateOf(
        { tokens, refreshToken: refresh },
        {
          raw: [
            "#status = :authenticated",
            "updatedAt = :stamp",
            "lastUpdatedBy = :by",
            "version = version + :one",
          ],
        },
      );
      const versionCheck = input.expectedVersion === undefined ? "" : " AND version = :expected";
      const command = new UpdateItemCommand({
        TableName: tableName,
        Key: connectorKey(input.orgId, input.connectorId),
        UpdateExpression: update.expression,
        ConditionExpression: `attribute_exists(pk) AND clientId = :clientId${versionCheck}`,
        ExpressionAttributeNames: { ...update.names, "#status": "status" },
        ExpressionAttributeValues: toAttributes({
          ...update.values,
          ...{
            ":authenticated": "authenticated",
            ":stamp": new Date(input.now).toISOString(),
            ":by": input.by,
          },
          ...{ ":one": 1, ":clientId": input.clientId, ":expected": input.expectedVersion },
        }),
        ReturnValues: "ALL_NEW",
      });
      const result = await call(() => client.send(command));
      if (!result) throw fail("conflict", "The connector changed or was removed while connecting");
      return toConnector(result.Attributes && unmarshall(result.Attributes)) as ConnectorRecord;
    },

    async delete(orgId, connectorId) {
      const command = new DeleteItemCommand({
        TableName: tableName,
        Key: connectorKey(orgId, connectorId),
        ReturnValues: "ALL_OLD",
      });
      const result = await call(() => client.send(command));
      return Boolean(result?.Attributes);
    },

    async markNeedsReauth(input) {
      const command = new UpdateItemCommand({
        TableName: tableName,
        Key: connectorKey(input.orgId, input.connectorId),
        UpdateExpression:
          "SET #status = :needsReauth, updatedAt = :stamp, lastUpdatedBy = :by, version = version + :one",
        ConditionExpression: "attribute_exists(pk) AND version = :expected",
        ExpressionAttributeNames: { "#status": "status" },
        ExpressionAttributeValues: toAttributes({
          ...{ ":needsReauth": "needs_reauth", ":stamp": new Date(input.now).toISOString() },
          ...{ ":by": input.by, ":one": 1, ":expected": input.expectedVersion },
        }),
      });
      return (await call(() => client.send(command))) !== undefined;
    },

    async clearTokens(input) {
      const command = new UpdateItemCommand({
        TableName: tableName,
        Key: connectorKey(input.orgId, input.connectorId),
        UpdateExpression:
          "SET #status = :disconnected, updatedAt = :stamp, lastUpdatedBy = :by, version = version + :one " +
          "REMOVE tokens, refreshToken",
        ConditionExpression: "attribute_exists(pk)",
        ExpressionAttributeNames: { "#status": "status" },
        ExpressionAttributeValues: toAttributes({
          ...{ ":disconnected": "disconnected", ":stamp": new Date(input.now).toISOString() },
          ...{ ":by": input.by, ":one": 1 },
        }),
      });
      return (await call(() => client.send(command))) !== undefined;
    },

    async *listAuthenticated() {
      let start: Record<string, import("@aws-sdk/client-dynamodb").AttributeValue> | undefined;
      do {
        const command = new ScanCommand({
          TableName: tableName,
          FilterExpression: "begins_with(sk, :prefix) AND #status = :authenticated",
          ExpressionAttributeNames: { "#status": "status" },
          ExpressionAttributeValues: toAttributes({
            ":prefix": "CONNECTOR#",
            ":authenticated": "authenticated",
          }),
          ExclusiveStartKey: start,
        });
        const page = await call(() => client.send(command));
        for (const item of page?.Items ?? []) yield toConnector(unmarshall(item)) as ConnectorRecord;
        start = page?.LastEvaluatedKey;
      } while (start);
    },
  };
}

function toFlow(item: Item | undefined): FlowRecord | undefined {
  if (!item) return undefined;
  const { pk: _pk, sk: _sk, ttl: _ttl, ...flow } = item;
  return flow as unknown as FlowRecord;
}

export function dynamoFlowStore(client: DynamoDBClient, tableName: string): FlowStore {
  const get = async (nonce: string) => {
    const command = new GetItemCommand({ TableName: tableName, Key: flowKey(nonce), ConsistentRead: true });
    const result = await call(() => client.send(command));
    return toFlow(result?.Item && unmarshall(result.Item));
  };
  return {
    get,

    async create(flow) {
      const ttl = Math.floor(flow.expiresAt / 1000) + FLOW_RETENTION_SECONDS;
      const command = new PutItemCommand({
        TableName: tableName,
        Item: toAttributes({ ...flow, ...{ pk: `FLOW#${flow.nonce}`, sk: "FLOW", ttl } }),
        ConditionExpression: "attribute_not_exists(pk)",
      });
      if (!(await call(() => client.send(command)))) throw fail("conflict", "A flow with this nonce exists");
    },

    async consume(nonce, now) {
      const command = new UpdateItemCommand({
        TableName: tableName,
        Key: flowKey(nonce),
        UpdateExpression: "SET #status = :exchanging, consumedAt = :now",
        ConditionExpression: "#status = :pending",
        ExpressionAttributeNames: { "#status": "status" },
        ExpressionAttributeValues: toAttributes({
          ":exchanging": "exchanging",
          ":pending": "pending",
          ":now": now,
        }),
        ReturnValues: "ALL_NEW",
      });
      const result = await call(() => client.send(command));
      if (result?.Attributes)
        return { status: "consumed", flow: toFlow(unmarshall(result.Attributes)) as FlowRecord };
      const existing = await get(nonce);
      return existing ? { status: "already", flow: existing } : { status: "missing" };
    },

    async finish(nonce, outcome, now) {
      const command = new UpdateItemCommand({
        TableName: tableName,
        Key: flowKey(nonce),
        UpdateExpression: `SET #status = :status, finishedAt = :now${outcome.error ? ", #error = :error" : ""}`,
        ConditionExpression: "#status = :exchanging",
        ExpressionAttributeNames: { "#status": "status", ...(outcome.error ? { "#error": "error" } : {}) },
        ExpressionAttributeValues: toAttributes({
          ...{ ":status": outcome.status, ":now": now, ":exchanging": "exchanging", ":error": outcome.error },
        }),
      });
      await call(() => client.send(command));
    },
  };
}
