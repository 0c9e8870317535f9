/**
 * The cold-start baseline: the bare KMS client, imported and constructed as the composition root
 * does; its one request (bench/first-request.ts) is a GenerateMac with the state key.
 */
import { GenerateMacCommand, KMSClient } from "@aws-sdk/client-kms";

export const kms = new KMSClient({});

export async function handler() {
  const message = new TextEncoder().encode("bench");
  const KeyId = process.env.STATE_KEY_ID;
  await kms.send(new GenerateMacCommand({ KeyId, Message: message, MacAlgorithm: "HMAC_SHA_256" }));
  return { statusCode: 200 };
}
