/**
 * DynamoDB adapters for connectors and flows: one table, single-item conditional writes only
 * (no transactions: dynalite has none, and none are needed).
 *
 * A conditional write retried by the SDK after a lost reply fails its own condition. So each one
 * writes an id of its own with the item (`attempt`, `holder`, `finishId`, `tokensWrite`,
 * `definitionWrite`) and, on
 * ConditionalCheckFailed, reads the item back (consistent read) to tell its own earlier success
 * from someone else's write. (ReturnValuesOnConditionCheckFailure would save that read on real
 * DynamoDB, but dynalite lacks it; the read-back works on both.)
 *
 * Items:
 *   connector  pk "ORG#<orgId>"   sk "CONNECTOR#<connectorId>"  config, status, version, tokens
 *              (the sealed refresh token sits in its own attribute `refreshToken`, so a token set
 *              without one leaves it untouched)
 *   flow       pk "FLOW#<nonce>"   sk "FLOW"                    flow record, `ttl` (epoch seconds)
 *   lease      pk "ORG#<orgId>"   sk "LEASE#<connectorId>"      refresh lease (leases.ts)
 *   slots      pk "SLOTS#<orgId>" sk "PENDING#<userId>"         a user's pending flows (nonce -> expiry)
 */

import { randomUUID } from "node:crypto";
import {
  type AttributeValue,
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
import {
  type ConnectorConfig,
  type ConnectorRecord,
  type ConnectorStore,
  FLOW_RETENTION_SECONDS,
  type FlowRecord,
  type FlowStore,
  fail,
  type SaveTokensInput,
  type Sealed,
  ServiceError,
} from "@connector-oauth/core";

type Item = Record<string, unknown>;
const toAttributes = (value: Item) => marshall(value, { removeUndefinedValues: true });

const connectorKey = (orgId: string, connectorId: string) =>
  toAttributes({ pk: `ORG#${orgId}`, sk: `CONNECTOR#${connectorId}` });
const flowKey = (nonce: string) => toAttributes({ pk: `FLOW#${nonce}`, sk: "FLOW" });
// A partition of their own: IAM's dynamodb:LeadingKeys sees only the partition key, so authorize's
// grant to write slots must not also reach the connector items under ORG#.
const slotsKey = (orgId: string, userId: string) =>
  toAttributes({ pk: `SLOTS#${orgId}`, sk: `PENDING#${userId}` });
const epochSeconds = (ms: number) => Math.ceil(ms / 1000);

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
  const { pk: _pk, sk: _sk, refreshToken, tokensWrite: _w, definitionWrite: _d, ...record } = item;
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
/** Where a connector's token set lives (the sealed refresh token apart, see above). */
const TOKEN_ATTRIBUTES = ["tokens", "refreshToken"];

/** One item by key, consistent read, unmarshalled. */
async function readItem(client: DynamoDBClient, tableName: string, key: Record<string, AttributeValue>) {
  const command = new GetItemCommand({ TableName: tableName, Key: key, ConsistentRead: true });
  const result = await call(() => client.send(command));
  return result?.Item && (unmarshall(result.Item) as Item);
}

export function dynamoConnectorStore(client: DynamoDBClient, tableName: string): ConnectorStore {
  const listPage: ConnectorStore["listPage"] = async (orgId, { after, limit }) => {
    const command = new QueryCommand({
      TableName: tableName,
      KeyConditionExpression: "pk = :pk AND begins_with(sk, :prefix)",
      ExpressionAttributeValues: toAttributes({ ":pk": `ORG#${orgId}`, ":prefix": "CONNECTOR#" }),
      ExclusiveStartKey: after === undefined ? undefined : connectorKey(orgId, after),
      Limit: limit,
    });
    const page = await call(() => client.send(command));
    const records = (page?.Items ?? []).map((item) => toConnector(unmarshall(item)) as ConnectorRecord);
    const last = records.at(-1);
    return { records, next: page?.LastEvaluatedKey && last ? last.connectorId : undefined };
  };

  return {
    async get(orgId, connectorId) {
      return toConnector(await readItem(client, tableName, connectorKey(orgId, connectorId)));
    },

    async list(orgId) {
      const records: ConnectorRecord[] = [];
      let after: string | undefined;
      do {
        const page = await listPage(orgId, { after, limit: 100 });
        records.push(...page.records);
        after = page.next;
      } while (after);
      return records;
    },

    listPage,

    async saveDefinition(config: ConnectorConfig, by, now, write = {}) {
      const { orgId, connectorId, clientSecret, ...rest } = config;
      const stamp = new Date(now).toISOString();
      const definitionWrite = randomUUID();
      const status = write.clearTokens ? ":notConnected" : "if_not_exists(#status, :notConnected)";
      // Optional fields the definition leaves out are removed; so are the tokens when asked.
      const removed = write.clearTokens ? [...OPTIONAL_CONFIG, ...TOKEN_ATTRIBUTES] : OPTIONAL_CONFIG;
      const update = updateOf(
        {
          ...Object.fromEntries(removed.map((k) => [k, undefined])),
          ...rest,
          clientSecret,
          orgId,
          connectorId,
          definitionWrite,
        },
        {
          remove: removed,
          raw: [
            "createdAt = if_not_exists(createdAt, :stamp)",
            "updatedAt = :stamp",
            "lastUpdatedBy = :by",
            `#status = ${status}`,
            "version = if_not_exists(version, :zero) + :one",
          ],
        },
      );
      const condition =
        write.expectedVersion === undefined
          ? undefined
          : write.expectedVersion === "absent"
            ? "attribute_not_exists(pk)"
            : "version = :expected";
      const command = new UpdateItemCommand({
        TableName: tableName,
        Key: connectorKey(orgId, connectorId),
        UpdateExpression: update.expression,
        ConditionExpression: condition,
        ExpressionAttributeNames: { ...update.names, "#status": "status" },
        ExpressionAttributeValues: toAttributes({
          ...update.values,
          ":stamp": stamp,
          ":by": by,
          ":notConnected": "not_connected",
          ":zero": 0,
          ":one": 1,
          ":expected": typeof write.expectedVersion === "number" ? write.expectedVersion : undefined,
        }),
        ReturnValues: "ALL_NEW",
      });
      const result = await call(() => client.send(command));
      if (result) return toConnector(result.Attributes && unmarshall(result.Attributes)) as ConnectorRecord;
      const current = await readItem(client, tableName, connectorKey(orgId, connectorId));
      if (current?.definitionWrite === definitionWrite) return toConnector(current) as ConnectorRecord;
      throw fail("conflict", "The connector was changed by someone else; read it again and retry");
    },

    async saveTokens(input: SaveTokensInput) {
      const { refresh, ...tokens } = input.tokens;
      const tokensWrite = randomUUID();
      const update = updateOf(
        { tokens, refreshToken: refresh, tokensWrite, connectFlow: input.flow },
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
          ":authenticated": "authenticated",
          ":stamp": new Date(input.now).toISOString(),
          ":by": input.by,
          ":one": 1,
          ":clientId": input.clientId,
          ":expected": input.expectedVersion,
        }),
        ReturnValues: "ALL_NEW",
      });
      const result = await call(() => client.send(command));
      if (result) return toConnector(result.Attributes && unmarshall(result.Attributes)) as ConnectorRecord;
      const current = await readItem(client, tableName, connectorKey(input.orgId, input.connectorId));
      if (current?.tokensWrite === tokensWrite) return toConnector(current) as ConnectorRecord;
      throw fail("conflict", "The connector changed or was removed while connecting");
    },

    async delete(orgId, connectorId, expectedVersion) {
      const key = connectorKey(orgId, connectorId);
      const command = new DeleteItemCommand({
        TableName: tableName,
        Key: key,
        ConditionExpression: expectedVersion === undefined ? undefined : "version = :expected",
        ExpressionAttributeValues:
          expectedVersion === undefined ? undefined : toAttributes({ ":expected": expectedVersion }),
        ReturnValues: "ALL_OLD",
      });
      const result = await call(() => client.send(command));
      if (result) return Boolean(result.Attributes);
      // The condition failed: either someone changed the connector, or an SDK retry after a lost
      // reply met this call's own deletion (the connector is gone).
      if (!(await readItem(client, tableName, key))) return true;
      throw fail("conflict", "The connector was changed by someone else; read it again and retry");
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
          ":needsReauth": "needs_reauth",
          ":stamp": new Date(input.now).toISOString(),
          ":by": input.by,
          ":one": 1,
          ":expected": input.expectedVersion,
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
          ":disconnected": "disconnected",
          ":stamp": new Date(input.now).toISOString(),
          ":by": input.by,
          ":one": 1,
        }),
      });
      return (await call(() => client.send(command))) !== undefined;
    },

    async *listAuthenticated() {
      let start: Record<string, AttributeValue> | undefined;
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
  const { pk: _pk, sk: _sk, ttl: _ttl, attempt: _a, finishId: _f, ...flow } = item;
  return flow as unknown as FlowRecord;
}

/** At most this many read-modify-write rounds on a user's slots item under contention, with a short
 * random pause between rounds so that concurrent authorizes of one user spread out. */
const SLOT_ROUNDS = 8;
const SLOT_BACKOFF_MS = 20;

const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Flow records and the per-user slots; `sleep` paces retries of a contended slots item. */
export function dynamoFlowStore(
  client: DynamoDBClient,
  tableName: string,
  { sleep = realSleep }: { sleep?: (ms: number) => Promise<void> } = {},
): FlowStore {
  const read = (nonce: string) => readItem(client, tableName, flowKey(nonce));

  /** Which of these flows are still pending (consistent reads, in parallel: GetItem is the one read
   * action the authorize function is granted). A slot whose flow was never written (its PutItem
   * failed) counts as pending: it expires with its state. */
  async function stillPending(nonces: string[]): Promise<Set<string>> {
    const statuses = await Promise.all(
      nonces.map(async (nonce) => {
        const command = new GetItemCommand({
          TableName: tableName,
          Key: flowKey(nonce),
          ConsistentRead: true,
          ProjectionExpression: "#status",
          ExpressionAttributeNames: { "#status": "status" },
        });
        const result = await call(() => client.send(command));
        return result?.Item ? (unmarshall(result.Item).status as string) : "pending";
      }),
    );
    return new Set(nonces.filter((_, i) => statuses[i] === "pending"));
  }

  /** The usual case in one write: the map exists and has room (expired slots still count; they are
   * dropped below once the map is full). Applying it twice after a lost reply changes nothing. */
  async function addSlot(flow: FlowRecord, maxPending: number, key: Record<string, AttributeValue>) {
    const command = new UpdateItemCommand({
      TableName: tableName,
      Key: key,
      UpdateExpression: "SET slots.#nonce = :expiresAt, version = version + :one, #ttl = :ttl",
      ConditionExpression: "attribute_exists(slots) AND size(slots) < :max",
      ExpressionAttributeNames: { "#nonce": flow.nonce, "#ttl": "ttl" },
      ExpressionAttributeValues: toAttributes({
        ":expiresAt": flow.expiresAt,
        ":one": 1,
        ":max": maxPending,
        ":ttl": epochSeconds(flow.expiresAt),
      }),
    });
    return (await call(() => client.send(command))) !== undefined;
  }

  /**
   * Takes one of the user's slots for `flow`: one conditional update when there is room. Else the
   * slots item is most often missing (a user's first flow, or the item's TTL removed it), so the
   * first round presumes it absent and creates it without reading it (conditioned on it not
   * existing). If that condition fails, each further round reads the item, drops expired slots
   * (and, when full, slots of flows no longer pending) and writes it back conditioned on the version
   * read. A retry that finds its own nonce in the slots after a lost reply is done.
   */
  async function reserveSlot(flow: FlowRecord, maxPending: number, now: number) {
    const key = slotsKey(flow.orgId, flow.userId);
    if (await addSlot(flow, maxPending, key)) return;
    for (let round = 0; round <= SLOT_ROUNDS; round++) {
      // Round 0 presumes the item absent; rounds after the first read race with other writers.
      if (round > 1) await sleep(Math.random() * SLOT_BACKOFF_MS * (round - 1));
      const item = round === 0 ? undefined : await readItem(client, tableName, key);
      const slots = (item?.slots ?? {}) as Record<string, number>;
      if (flow.nonce in slots) return;
      let live = Object.entries(slots).filter(([, expiresAt]) => expiresAt > now);
      if (live.length >= maxPending) {
        const pending = await stillPending(live.map(([nonce]) => nonce));
        live = live.filter(([nonce]) => pending.has(nonce));
      }
      if (live.length >= maxPending)
        throw fail(
          "too_many_pending_flows",
          `You have ${maxPending} unfinished connects; finish or wait for them`,
        );
      const next = Object.fromEntries([...live, [flow.nonce, flow.expiresAt]]);
      const version = (item?.version as number | undefined) ?? 0;
      const command = new PutItemCommand({
        TableName: tableName,
        Item: toAttributes({
          ...unmarshall(key),
          slots: next,
          version: version + 1,
          ttl: epochSeconds(Math.max(...Object.values(next))),
        }),
        ConditionExpression: version === 0 ? "attribute_not_exists(pk)" : "version = :version",
        ExpressionAttributeValues: version === 0 ? undefined : toAttributes({ ":version": version }),
      });
      if (await call(() => client.send(command))) return;
    }
    throw fail("dependency_unavailable", "Too many connects started at once; try again");
  }

  /** One conditional flow update; on a failed condition, whether the item now shows `mine`. */
  async function updateFlow(command: UpdateItemCommand, nonce: string, mine: (item: Item) => boolean) {
    const result = await call(() => client.send(command));
    if (result) return result.Attributes ? unmarshall(result.Attributes) : {};
    const current = await read(nonce);
    return current && mine(current) ? current : undefined;
  }

  return {
    get: async (nonce) => toFlow(await read(nonce)),

    async create(flow, { maxPending, now }) {
      await reserveSlot(flow, maxPending, now);
      const attempt = randomUUID();
      const command = new PutItemCommand({
        TableName: tableName,
        Item: toAttributes({
          ...flow,
          pk: `FLOW#${flow.nonce}`,
          sk: "FLOW",
          attempt,
          ttl: epochSeconds(flow.expiresAt),
        }),
        ConditionExpression: "attribute_not_exists(pk)",
      });
      if (await call(() => client.send(command))) return;
      if ((await read(flow.nonce))?.attempt !== attempt)
        throw fail("conflict", "A flow with this nonce exists");
    },

    async consume(nonce, holder, now, leaseMs) {
      const command = new UpdateItemCommand({
        TableName: tableName,
        Key: flowKey(nonce),
        UpdateExpression:
          "SET #status = :exchanging, consumedAt = :now, holder = :holder, leaseUntil = :until, #ttl = :ttl",
        ConditionExpression: "#status = :pending",
        ExpressionAttributeNames: { "#status": "status", "#ttl": "ttl" },
        ExpressionAttributeValues: toAttributes({
          ":exchanging": "exchanging",
          ":pending": "pending",
          ":now": now,
          ":holder": holder,
          ":until": now + leaseMs,
          ":ttl": epochSeconds(now) + FLOW_RETENTION_SECONDS,
        }),
        ReturnValues: "ALL_NEW",
      });
      const consumed = await updateFlow(command, nonce, (item) => item.holder === holder);
      if (consumed) return { status: "consumed", flow: toFlow(consumed) as FlowRecord };
      const existing = await read(nonce);
      return existing ? { status: "already", flow: toFlow(existing) as FlowRecord } : { status: "missing" };
    },

    async release(flow, holder) {
      const command = new UpdateItemCommand({
        TableName: tableName,
        Key: flowKey(flow.nonce),
        UpdateExpression: "SET #status = :pending, #ttl = :ttl REMOVE holder, leaseUntil, consumedAt",
        ConditionExpression: "#status = :exchanging AND holder = :holder",
        ExpressionAttributeNames: { "#status": "status", "#ttl": "ttl" },
        ExpressionAttributeValues: toAttributes({
          ":pending": "pending",
          ":exchanging": "exchanging",
          ":holder": holder,
          ":ttl": epochSeconds(flow.expiresAt),
        }),
      });
      await call(() => client.send(command));
    },

    async finish(nonce, outcome, now, by) {
      const finishId = randomUUID();
      const guard =
        "holder" in by
          ? " AND holder = :holder"
          : "leaseExpired" in by
            ? " AND (attribute_not_exists(leaseUntil) OR leaseUntil <= :now)"
            : "";
      const command = new UpdateItemCommand({
        TableName: tableName,
        Key: flowKey(nonce),
        UpdateExpression: `SET #status = :status, finishedAt = :now, finishId = :finishId${outcome.error ? ", #error = :error" : ""}`,
        ConditionExpression: `#status = :exchanging${guard}`,
        ExpressionAttributeNames: { "#status": "status", ...(outcome.error ? { "#error": "error" } : {}) },
        ExpressionAttributeValues: toAttributes({
          ":status": outcome.status,
          ":now": now,
          ":exchanging": "exchanging",
          ":error": outcome.error,
          ":finishId": finishId,
          ":holder": "holder" in by ? by.holder : undefined,
        }),
      });
      return (await updateFlow(command, nonce, (item) => item.finishId === finishId)) !== undefined;
    },
  };
}
