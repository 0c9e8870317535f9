/**
 * The local services on a shared machine: DynamoDB (dynalite behind a SigV4 check) and the local
 * KMS refuse requests that are unsigned, signed with other credentials or sent to a foreign Host;
 * the credentials are generated per data folder, kept 0600, and the folder is 0700.
 */
import { mkdtemp, rm, stat } from "node:fs/promises";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DynamoDBClient, ListTablesCommand } from "@aws-sdk/client-dynamodb";
import { KMSClient, ListAliasesCommand } from "@aws-sdk/client-kms";
import { startDemoProvider } from "@connector-oauth/demo-provider";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureDataDir } from "../src/config.ts";
import {
  LOCAL_REGION,
  type LocalServices,
  readLocalCredentials,
  startLocalServices,
} from "../src/services.ts";

/** An unsigned (or foreign-Host) POST, as raw bytes. */
function post(url: string, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: "POST", headers }, (res) => {
      let body = "";
      res.on("data", (c) => (body += c)).on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", reject).end("{}");
  });
}

describe("local services", () => {
  let dataDir: string;
  let services: LocalServices;

  beforeAll(async () => {
    dataDir = join(await mkdtemp(join(tmpdir(), "connector-oauth-services-")), "data");
    await ensureDataDir(dataDir);
    services = await startLocalServices({ dataDir });
  });
  afterAll(async () => {
    await services?.close();
    await rm(join(dataDir, ".."), { recursive: true, force: true });
  });

  const clients = (given: { accessKeyId: string; secretAccessKey: string }) => {
    const credentials = { ...given };
    return {
      dynamo: new DynamoDBClient({
        region: LOCAL_REGION,
        credentials,
        endpoint: services.dynamodbUrl,
        maxAttempts: 1,
      }),
      kms: new KMSClient({ region: LOCAL_REGION, credentials, endpoint: services.kmsUrl, maxAttempts: 1 }),
    };
  };

  it("answers requests signed with the data folder's credentials", async () => {
    const { dynamo, kms } = clients(services.credentials);
    expect((await dynamo.send(new ListTablesCommand({}))).TableNames).toContain(services.tableName);
    expect((await kms.send(new ListAliasesCommand({}))).Aliases?.length).toBeGreaterThan(0);
  });

  it("refuses requests signed with other credentials", async () => {
    for (const credentials of [
      { ...services.credentials, secretAccessKey: "guessed" },
      { accessKeyId: "local", secretAccessKey: "local" },
    ]) {
      const { dynamo, kms } = clients(credentials);
      await expect(dynamo.send(new ListTablesCommand({}))).rejects.toMatchObject({
        name: expect.stringMatching(/InvalidSignatureException|UnrecognizedClientException/),
      });
      await expect(kms.send(new ListAliasesCommand({}))).rejects.toMatchObject({
        name: expect.stringMatching(/InvalidSignatureException|UnrecognizedClientException/),
      });
    }
  });

  it("refuses unsigned requests and foreign Host names", async () => {
    const dynamo = {
      "x-amz-target": "DynamoDB_20120810.ListTables",
      "content-type": "application/x-amz-json-1.0",
    };
    const kms = { "x-amz-target": "TrentService.ListAliases", "content-type": "application/x-amz-json-1.1" };
    for (const [url, headers] of [
      [services.dynamodbUrl, dynamo],
      [services.kmsUrl, kms],
    ] as const) {
      const unsigned = await post(url, headers);
      expect(unsigned.status).toBe(400);
      expect(unsigned.body).toMatch(/MissingAuthenticationTokenException/);
      const rebound = await post(url, { ...headers, host: "evil.example" });
      expect(rebound.status).toBe(400);
      expect(rebound.body).toMatch(/AccessDeniedException/);
    }
  });

  it("has the demo provider refuse a foreign Host", async () => {
    const provider = await startDemoProvider({ clients: [] });
    try {
      const discovery = "/.well-known/openid-configuration";
      const get = (host: string) =>
        new Promise<number>((resolve, reject) => {
          const req = request(
            { host: "127.0.0.1", port: provider.port, path: discovery, headers: { host } },
            (res) => {
              res.resume();
              resolve(res.statusCode ?? 0);
            },
          );
          req.on("error", reject).end();
        });
      // Its own error page (no "you SHOULD change renderError" notice), escaped.
      const page = await fetch(`${provider.issuer}/auth?client_id=<b>nope</b>&response_type=code`);
      expect(await page.text()).toMatch(
        /^<!doctype html><meta charset="utf-8"><title>Demo provider: invalid_client<\/title>/,
      );
      expect(await get("evil.example")).toBe(403);
      expect(await get(`127.0.0.1:${provider.port}`)).toBe(200);
    } finally {
      await provider.close();
    }
  });

  it("keeps the credentials 0600 in a 0700 data folder and reuses them on restart", async () => {
    expect((await stat(dataDir)).mode & 0o777).toBe(0o700);
    expect((await stat(join(dataDir, "aws-credentials.json"))).mode & 0o777).toBe(0o600);
    expect(await readLocalCredentials(dataDir)).toEqual(services.credentials);
  });
});
