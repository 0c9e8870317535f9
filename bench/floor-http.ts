/**
 * The floor of one AWS call without the AWS SDK's request pipeline: the baseline's KMS GenerateMac
 * signed with SigV4 (@smithy/signature-v4, the SDK's own signer, with the SDK's node:crypto hash)
 * and sent with node:http over a keep-alive agent, as @smithy/node-http-handler does; the
 * JSON answer read and parsed. No middleware, no endpoint rules, no retries, no schema serde. What a
 * hand-written AWS client would still pay per call: the CPU of a function's warm request cannot go
 * below its AWS round trips times this (docs/benchmark.md, "Reading these").
 */
import { Agent, request } from "node:http";
import { Hash } from "@smithy/core/serde";
import { SignatureV4 } from "@smithy/signature-v4";

/** The SDK's own SHA-256 (node:crypto behind it), as local mode's signer check builds it
 * (packages/local/src/sigv4.ts). */
class Sha256 extends Hash {
  constructor(secret?: ConstructorParameters<typeof Hash>[1]) {
    super("sha256", secret);
  }
}

const endpoint = new URL(process.env.AWS_ENDPOINT_URL_KMS ?? "https://kms.us-east-1.amazonaws.com");
const agent = new Agent({ keepAlive: true, maxSockets: 50 });
const signer = new SignatureV4({
  service: "kms",
  region: process.env.AWS_REGION ?? "us-east-1",
  sha256: Sha256,
  credentials: {
    accessKeyId: process.env.AWS_ACCESS_KEY_ID ?? "",
    secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY ?? "",
    sessionToken: process.env.AWS_SESSION_TOKEN,
  },
});

export async function handler() {
  const body = JSON.stringify({
    KeyId: process.env.STATE_KEY_ID,
    Message: Buffer.from("bench").toString("base64"),
    MacAlgorithm: "HMAC_SHA_256",
  });
  const signed = await signer.sign({
    method: "POST",
    protocol: endpoint.protocol,
    hostname: endpoint.hostname,
    port: Number(endpoint.port) || undefined,
    path: "/",
    headers: {
      host: endpoint.host,
      "content-type": "application/x-amz-json-1.1",
      "x-amz-target": "TrentService.GenerateMac",
      "content-length": String(Buffer.byteLength(body)),
    },
    body,
  });
  const answer = await new Promise<{ status: number; json: unknown }>((resolve, reject) => {
    const req = request(
      {
        host: endpoint.hostname,
        port: endpoint.port,
        path: "/",
        method: "POST",
        agent,
        headers: signed.headers,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () =>
          resolve({ status: res.statusCode ?? 0, json: JSON.parse(Buffer.concat(chunks).toString("utf8")) }),
        );
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(body);
  });
  if (answer.status !== 200 || !(answer.json as { Mac?: string }).Mac)
    throw new Error(`GenerateMac without the SDK: HTTP ${answer.status}`);
  return { statusCode: 200 };
}
