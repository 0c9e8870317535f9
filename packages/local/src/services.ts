/**
 * The local AWS services the handlers use: dynalite (DynamoDB) and the local KMS, with the table
 * and the two keys created on first start. Data lives under `dataDir` when given (kept across
 * restarts), else in memory.
 */
import { mkdir } from "node:fs/promises";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import {
  CreateAliasCommand,
  CreateKeyCommand,
  DescribeKeyCommand,
  KMSClient,
  NotFoundException,
} from "@aws-sdk/client-kms";
import { ensureTable } from "@connector-oauth/aws";
import dynalite from "dynalite";
import { startLocalKms } from "./kms-server.ts";

export const LOCAL_REGION = "us-east-1";
export const LOCAL_CREDENTIALS = { accessKeyId: "local", secretAccessKey: "local" };
export const TABLE_NAME = "connector-oauth";
export const STATE_KEY_ALIAS = "alias/connector-oauth-state";
export const DATA_KEY_ALIAS = "alias/connector-oauth-data";

export interface LocalServices {
  dynamodbUrl: string;
  kmsUrl: string;
  tableName: string;
  stateKeyId: string;
  dataKeyId: string;
  /** The AWS SDK settings that point any client (the handlers included) at these services. */
  env: Record<string, string>;
  dynamo: DynamoDBClient;
  kms: KMSClient;
  close(): Promise<void>;
}

async function listen(server: Server, port: number): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve());
  });
  return (server.address() as AddressInfo).port;
}

async function ensureKey(
  kms: KMSClient,
  alias: string,
  spec: "SYMMETRIC_DEFAULT" | "HMAC_256",
): Promise<string> {
  try {
    const found = await kms.send(new DescribeKeyCommand({ KeyId: alias }));
    return found.KeyMetadata?.Arn as string;
  } catch (error) {
    if (!(error instanceof NotFoundException)) throw error;
  }
  const usage = spec === "HMAC_256" ? "GENERATE_VERIFY_MAC" : "ENCRYPT_DECRYPT";
  const created = await kms.send(
    new CreateKeyCommand({ KeySpec: spec, KeyUsage: usage, Description: alias }),
  );
  await kms.send(new CreateAliasCommand({ AliasName: alias, TargetKeyId: created.KeyMetadata?.KeyId }));
  return created.KeyMetadata?.Arn as string;
}

/** Starts dynalite and the local KMS on 127.0.0.1 and creates the table and keys if missing. */
export async function startLocalServices(
  options: { dataDir?: string; dynamodbPort?: number; kmsPort?: number } = {},
): Promise<LocalServices> {
  const dbPath = options.dataDir && join(options.dataDir, "dynamodb");
  if (dbPath) await mkdir(dbPath, { recursive: true });
  const db = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0, path: dbPath });
  const dbPort = await listen(db, options.dynamodbPort ?? 0);
  const localKms = await startLocalKms({
    port: options.kmsPort ?? 0,
    dataDir: options.dataDir && join(options.dataDir, "kms"),
  }).catch(async (error) => {
    await new Promise((resolve) => db.close(resolve));
    throw error;
  });
  const dynamodbUrl = `http://127.0.0.1:${dbPort}`;
  const config = { region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS };
  const dynamo = new DynamoDBClient({ ...config, endpoint: dynamodbUrl });
  const kms = new KMSClient({ ...config, endpoint: localKms.url });
  await ensureTable(dynamo, TABLE_NAME);
  const stateKeyId = await ensureKey(kms, STATE_KEY_ALIAS, "HMAC_256");
  const dataKeyId = await ensureKey(kms, DATA_KEY_ALIAS, "SYMMETRIC_DEFAULT");
  const env = {
    AWS_REGION: LOCAL_REGION,
    AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
    AWS_ENDPOINT_URL_DYNAMODB: dynamodbUrl,
    AWS_ENDPOINT_URL_KMS: localKms.url,
    TABLE_NAME,
    STATE_KEY_ID: stateKeyId,
    DATA_KEY_ID: dataKeyId,
  };
  return {
    ...{ dynamodbUrl, kmsUrl: localKms.url, tableName: TABLE_NAME, stateKeyId, dataKeyId, env, dynamo, kms },
    async close() {
      dynamo.destroy();
      kms.destroy();
      await localKms.close();
      await new Promise((resolve) => db.close(resolve));
    },
  };
}
