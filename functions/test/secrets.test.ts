import { ScanCommand, UpdateItemCommand } from "@aws-sdk/client-dynamodb";
import { RotateKeyOnDemandCommand } from "@aws-sdk/client-kms";
import { isServiceError, openTokenSet } from "@connector-oauth/core";
import {
  authorize,
  CLIENT,
  callCallback,
  consent,
  demoConnector,
  type Harness,
  startHarness,
  tokenRequests,
} from "@connector-oauth/test-kit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

let h: Harness;
const raw: string[] = [];

async function connect(connectorId: string) {
  const token = await h.token({ sub: "alice", orgId: "acme", role: "admin" });
  const started = await authorize(h, connectorId, token);
  const callbackUrl = await consent(h, started.body.authorizationUrl as string);
  raw.push(new URL(callbackUrl).searchParams.get("code") as string);
  await callCallback(callbackUrl);
  const exchange = tokenRequests(h).at(-1);
  raw.push(exchange?.params.code_verifier as string);
  const stored = await h.connectors.get("acme", connectorId);
  const secrets = await openTokenSet(h.dataKeys, stored as NonNullable<typeof stored>);
  raw.push(secrets.accessToken, secrets.refreshToken as string, secrets.idToken as string);
}

beforeAll(async () => {
  h = await startHarness();
  await h.define(["a", "b"].map((connectorId) => demoConnector(h.provider, { connectorId, orgId: "acme" })));
  raw.push(CLIENT.clientSecret);
  await connect("a");
  await connect("b");
});
afterAll(() => h?.close());

describe("secrets at rest", () => {
  it("finds no token, code, verifier or client secret in any DynamoDB item or log line", async () => {
    expect(raw.map((value) => typeof value === "string" && value.length >= 16)).toEqual(Array(11).fill(true));
    expect(raw.length).toBe(11);
    const scan = await h.services.dynamo.send(new ScanCommand({ TableName: h.services.tableName }));
    const table = JSON.stringify(scan.Items);
    expect(scan.Items?.length).toBeGreaterThanOrEqual(4);
    const logs = h.logs.join("\n");
    expect(logs).toContain("connector authenticated");
    for (const value of raw) {
      expect(table).not.toContain(value);
      expect(logs).not.toContain(value);
    }
  });

  it("fails to decrypt when two connectors' ciphertexts are swapped", async () => {
    const a = await h.connectors.get("acme", "a");
    const b = await h.connectors.get("acme", "b");
    const swap = (target: string, from: NonNullable<typeof a>) =>
      h.services.dynamo.send(
        new UpdateItemCommand({
          TableName: h.services.tableName,
          Key: { pk: { S: "ORG#acme" }, sk: { S: `CONNECTOR#${target}` } },
          UpdateExpression: "SET tokens.#access = :access",
          ExpressionAttributeNames: { "#access": "access" },
          ExpressionAttributeValues: {
            ":access": {
              M: Object.fromEntries(
                Object.entries(from.tokens?.access ?? {}).map(([k, v]) => [
                  k,
                  typeof v === "number" ? { N: String(v) } : { S: String(v) },
                ]),
              ),
            },
          },
        }),
      );
    await swap("a", b as NonNullable<typeof b>);
    const swapped = await h.connectors.get("acme", "a");
    const error = await openTokenSet(h.dataKeys, swapped as NonNullable<typeof swapped>).catch(
      (e: unknown) => e,
    );
    expect(isServiceError(error, "internal_error")).toBe(true);
    // b itself still decrypts: the failure is the binding, not the ciphertext.
    expect((await openTokenSet(h.dataKeys, b as NonNullable<typeof b>)).accessToken).toBe(raw[8]);
  });

  it("still decrypts tokens sealed before the data key was rotated", async () => {
    const before = await h.connectors.get("acme", "b");
    await h.services.kms.send(new RotateKeyOnDemandCommand({ KeyId: h.services.dataKeyId }));
    const secrets = await openTokenSet(h.dataKeys, before as NonNullable<typeof before>);
    expect(secrets.accessToken).toBe(raw[8]);
  });
});

describe("secrets through the connectors API", () => {
  it("never answers or logs a client secret given to PUT, and stores it sealed", async () => {
    const secret = "api-client-secret-3c2b1a0f9e8d";
    const admin = await h.token({ sub: "alice", orgId: "acme", role: "admin" });
    const call = async (method: string, path: string, body?: unknown) => {
      const response = await fetch(`${h.api.url}${path}`, {
        method,
        headers: { authorization: `Bearer ${admin}`, "content-type": "application/json" },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const headers: string[] = [];
      response.headers.forEach((value, name) => {
        headers.push(`${name}: ${value}`);
      });
      return `${response.status} ${headers.join("\n")} ${await response.text()}`;
    };
    const { createdBy: _c, ...definition } = demoConnector(h.provider, {
      connectorId: "api-secret",
      clientSecret: secret,
    });
    const answers = [
      await call("PUT", "/connectors/api-secret", definition),
      await call("PUT", "/connectors/api-secret", { ...definition, name: "Renamed" }),
      await call("GET", "/connectors/api-secret"),
      await call("GET", "/connectors"),
      // A bad definition's error names the field, never the value of the secret next to it.
      await call("PUT", "/connectors/api-secret", { ...definition, scope: "everyone" }),
    ];
    expect(answers.map((a) => a.slice(0, 3))).toEqual(["201", "200", "200", "200", "400"]);
    const scan = await h.services.dynamo.send(new ScanCommand({ TableName: h.services.tableName }));
    const logs = h.logs.join("\n");
    expect(logs).toContain('"audit":"connector.updated"');
    for (const where of [...answers, JSON.stringify(scan.Items), logs]) expect(where).not.toContain(secret);
  });
});
