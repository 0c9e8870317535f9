/**
 * verifySigV4 against requests the real AWS SDK signed: a capturing server records what a KMS
 * client sends, then each check replays the recorded bytes, intact or changed.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { KMSClient, ListAliasesCommand } from "@aws-sdk/client-kms";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ReceivedRequest, verifySigV4 } from "../src/sigv4.ts";

const CREDENTIALS = { accessKeyId: "LOCALKEYID1234567890", secretAccessKey: "local-secret-key-of-the-test" };

describe("verifySigV4", () => {
  let server: Server;
  let signed: ReceivedRequest;
  let sentAt: number;

  beforeAll(async () => {
    server = createServer(async (request, response) => {
      signed = {
        method: request.method ?? "",
        url: request.url ?? "",
        headers: request.headers,
        body: Buffer.concat(await request.toArray()),
      };
      response.writeHead(200, { "content-type": "application/x-amz-json-1.1" }).end('{"Aliases":[]}');
    });
    await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
    const kms = new KMSClient({
      region: "eu-west-1",
      credentials: CREDENTIALS,
      endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    });
    sentAt = Date.now();
    await kms.send(new ListAliasesCommand({ Limit: 5 }));
    kms.destroy();
  });
  afterAll(() => new Promise((done) => server.close(done)));

  it("accepts the request exactly as the SDK signed it", async () => {
    expect(await verifySigV4(signed, CREDENTIALS, sentAt)).toBeUndefined();
  });

  it("refuses a request signed with another secret or another key id", async () => {
    expect(await verifySigV4(signed, { ...CREDENTIALS, secretAccessKey: "other" }, sentAt)).toMatchObject({
      type: "InvalidSignatureException",
    });
    expect(await verifySigV4(signed, { ...CREDENTIALS, accessKeyId: "OTHER" }, sentAt)).toMatchObject({
      type: "UnrecognizedClientException",
    });
  });

  it("refuses a changed body, a changed signed header and a missing signature", async () => {
    const body = Buffer.from(signed.body.toString().replace("5", "6"));
    expect(await verifySigV4({ ...signed, body }, CREDENTIALS, sentAt)).toMatchObject({
      type: "InvalidSignatureException",
    });
    const headers = { ...signed.headers, "x-amz-target": "TrentService.Decrypt" };
    expect(await verifySigV4({ ...signed, headers }, CREDENTIALS, sentAt)).toMatchObject({
      type: "InvalidSignatureException",
    });
    const { authorization: _, ...unsigned } = signed.headers;
    expect(await verifySigV4({ ...signed, headers: unsigned }, CREDENTIALS, sentAt)).toMatchObject({
      type: "MissingAuthenticationTokenException",
    });
  });

  it("refuses a replay more than 15 minutes after signing", async () => {
    expect(await verifySigV4(signed, CREDENTIALS, sentAt + 16 * 60_000)).toMatchObject({
      type: "InvalidSignatureException",
      message: expect.stringMatching(/expired/),
    });
    expect(await verifySigV4(signed, CREDENTIALS, sentAt + 14 * 60_000)).toBeUndefined();
  });
});
