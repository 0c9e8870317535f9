/**
 * The local AWS services the handlers use: dynalite (DynamoDB) and the local KMS, with the table
 * and the two keys created on first start. Data lives under `dataDir` when given (kept across
 * restarts), else in memory. Both refuse requests not SigV4-signed with the data folder's own
 * credentials (generated on first start, kept 0600 in the folder) or sent to a foreign Host.
 */
import { randomBytes } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { Readable } from "node:stream";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import {
  CreateAliasCommand,
  CreateKeyCommand,
  DescribeKeyCommand,
  KMSClient,
  NotFoundException,
} from "@aws-sdk/client-kms";
import { ensureTable } from "@connector-oauth/aws";
import { hostAllowed } from "@connector-oauth/config";
import dynalite from "dynalite";
import { startLocalKms } from "./kms-server.ts";
import { type Credentials, verifySigV4 } from "./sigv4.ts";

export const LOCAL_REGION = "us-east-1";
const CREDENTIALS_FILE = "aws-credentials.json";
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
  /** The credentials both services require (SigV4), generated per data folder. */
  credentials: Credentials;
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

function newCredentials(): Credentials {
  const id = randomBytes(10).toString("hex").toUpperCase();
  return { accessKeyId: `LOCAL${id}`, secretAccessKey: randomBytes(30).toString("base64url") };
}

/** The data folder's local AWS credentials, or undefined when it has none yet. */
export async function readLocalCredentials(dataDir: string): Promise<Credentials | undefined> {
  const text = await readFile(join(dataDir, CREDENTIALS_FILE), "utf8").catch(() => undefined);
  return text === undefined ? undefined : (JSON.parse(text) as Credentials);
}

/** The data folder's credentials, created (0600) on first start; fresh ones for an in-memory run. */
async function localCredentials(dataDir?: string): Promise<Credentials> {
  if (!dataDir) return newCredentials();
  const existing = await readLocalCredentials(dataDir);
  if (existing) return existing;
  const created = newCredentials();
  await writeFile(join(dataDir, CREDENTIALS_FILE), JSON.stringify(created), { mode: 0o600 });
  return created;
}

/** dynalite checks no signature and no Host: check both before its own handler sees the request.
 * The body is read here and replayed to dynalite as a stream with the same headers. */
function guardDynalite(db: Server, credentials: Credentials): void {
  const [serve] = db.listeners("request") as ((q: IncomingMessage, s: ServerResponse) => void)[];
  db.removeAllListeners("request");
  db.on("request", async (request: IncomingMessage, response: ServerResponse) => {
    const body = Buffer.concat(await request.toArray());
    const received = {
      method: request.method ?? "",
      url: request.url ?? "/",
      headers: request.headers,
      body,
    };
    const refusal = hostAllowed(request)
      ? await verifySigV4(received, credentials)
      : { type: "AccessDeniedException", message: "This server answers only to localhost" };
    if (refusal) {
      // DynamoDB's JSON error shape: https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Programming.Errors.html
      const error = { __type: `com.amazonaws.dynamodb.v20120810#${refusal.type}`, message: refusal.message };
      response.writeHead(400, { "content-type": "application/x-amz-json-1.0" }).end(JSON.stringify(error));
      return;
    }
    const replay = Object.assign(Readable.from([body]), {
      headers: request.headers,
      method: request.method,
      url: request.url,
      socket: request.socket,
    });
    serve?.(replay as unknown as IncomingMessage, response);
  });
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
  if (dbPath) await mkdir(dbPath, { recursive: true, mode: 0o700 });
  const credentials = await localCredentials(options.dataDir);
  const db = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0, path: dbPath });
  guardDynalite(db, credentials);
  const dbPort = await listen(db, options.dynamodbPort ?? 0);
  const localKms = await startLocalKms({
    port: options.kmsPort ?? 0,
    dataDir: options.dataDir && join(options.dataDir, "kms"),
    credentials,
  }).catch(async (error) => {
    await new Promise((resolve) => db.close(resolve));
    throw error;
  });
  const dynamodbUrl = `http://127.0.0.1:${dbPort}`;
  // A copy: the SDK marks the credentials object it is given ($source).
  const config = { region: LOCAL_REGION, credentials: { ...credentials } };
  const dynamo = new DynamoDBClient({ ...config, endpoint: dynamodbUrl });
  const kms = new KMSClient({ ...config, endpoint: localKms.url });
  await ensureTable(dynamo, TABLE_NAME);
  const stateKeyId = await ensureKey(kms, STATE_KEY_ALIAS, "HMAC_256");
  const dataKeyId = await ensureKey(kms, DATA_KEY_ALIAS, "SYMMETRIC_DEFAULT");
  const env = {
    AWS_REGION: LOCAL_REGION,
    AWS_ACCESS_KEY_ID: credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
    AWS_ENDPOINT_URL_DYNAMODB: dynamodbUrl,
    AWS_ENDPOINT_URL_KMS: localKms.url,
    TABLE_NAME,
    STATE_KEY_ID: stateKeyId,
    DATA_KEY_ID: dataKeyId,
  };
  return {
    dynamodbUrl,
    kmsUrl: localKms.url,
    tableName: TABLE_NAME,
    stateKeyId,
    dataKeyId,
    env,
    dynamo,
    kms,
    credentials,
    async close() {
      dynamo.destroy();
      kms.destroy();
      await localKms.close();
      await new Promise((resolve) => db.close(resolve));
    },
  };
}
