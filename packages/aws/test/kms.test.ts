import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { createServer } from "node:net";
import { CreateKeyCommand, KMSClient } from "@aws-sdk/client-kms";
import { startLocalKms } from "@connector-oauth/local";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openField, sealFields } from "../../core/src/envelope.ts";
import { isServiceError } from "../../core/src/errors.ts";
import type { EncryptionContext } from "../../core/src/types.ts";
import { kmsDataKeys, kmsStateMac } from "../src/kms.ts";

interface Target {
  client: KMSClient;
  macKeyId: string;
  dataKeyId: string;
}

const context: EncryptionContext = { orgId: "org-1", connectorId: "conn-1", purpose: "tokens", config: "d1" };
const utf8 = (text: string) => new TextEncoder().encode(text);

const motoAvailable = spawnSync("python3", ["-c", "import moto.server"], { stdio: "ignore" }).status === 0;
if (!motoAvailable) console.warn("kms.test: moto suite skipped: `python3 -c 'import moto.server'` failed");

function clientFor(endpoint: string): KMSClient {
  return new KMSClient({
    endpoint,
    region: "us-east-1",
    credentials: { accessKeyId: "local", secretAccessKey: "local" },
    maxAttempts: 1,
  });
}

/** A port that was free a moment ago: nothing listens on it once this resolves. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === "string") throw new Error("no port");
  return address.port;
}

async function createKeys(client: KMSClient): Promise<Target> {
  const mac = await client.send(
    new CreateKeyCommand({ KeySpec: "HMAC_256", KeyUsage: "GENERATE_VERIFY_MAC" }),
  );
  const data = await client.send(
    new CreateKeyCommand({ KeySpec: "SYMMETRIC_DEFAULT", KeyUsage: "ENCRYPT_DECRYPT" }),
  );
  const macKeyId = mac.KeyMetadata?.KeyId;
  const dataKeyId = data.KeyMetadata?.KeyId;
  if (!macKeyId || !dataKeyId) throw new Error("CreateKey returned no key id");
  return { client, macKeyId, dataKeyId };
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => "resolved",
    (error: unknown) => error,
  );
}

/** The same behaviour is asserted against every KMS implementation. */
function sharedCases(target: () => Target): void {
  it("verifies a MAC when it was generated for the same message", async () => {
    const mac = kmsStateMac(target().client, target().macKeyId);
    const tag = await mac.generate(utf8("nonce.payload"));
    expect(tag).toHaveLength(32);
    expect(await mac.verify(utf8("nonce.payload"), tag)).toBe(true);
    expect(await mac.verify(utf8("nonce.payloaD"), tag)).toBe(false);
  });

  it("resolves false when one byte of the MAC is flipped", async () => {
    const mac = kmsStateMac(target().client, target().macKeyId);
    const tag = await mac.generate(utf8("state"));
    const flipped = Uint8Array.from(tag);
    flipped[5] = (flipped[5] ?? 0) ^ 0x80;
    expect(await mac.verify(utf8("state"), flipped)).toBe(false);
  });

  it("opens sealed fields when the data key comes from GenerateDataKey", async () => {
    const keys = kmsDataKeys(target().client, target().dataKeyId);
    const dataKey = await keys.generate(context);
    expect(dataKey.plaintext).toHaveLength(32);
    expect(await keys.decrypt(dataKey.encrypted, context)).toEqual(dataKey.plaintext);
    const sealed = await sealFields(keys, context, { access: "at-123", refresh: "rt-456" });
    if (!sealed.access || !sealed.refresh) throw new Error("fields were not sealed");
    expect(await openField(keys, context, "access", sealed.access)).toBe("at-123");
    expect(await openField(keys, context, "refresh", sealed.refresh)).toBe("rt-456");
  });

  it("fails with internal_error when decrypting under another connector's context", async () => {
    const keys = kmsDataKeys(target().client, target().dataKeyId);
    const { access } = await sealFields(keys, context, { access: "at-123" });
    if (!access) throw new Error("field was not sealed");
    const moved = { ...context, connectorId: "conn-2" };
    const error = await rejection(openField(keys, moved, "access", access));
    expect(isServiceError(error, "internal_error")).toBe(true);
    expect((error as Error).message).toBe("A stored secret failed its integrity check");
  });

  it("fails with dependency_unavailable when the endpoint is unreachable", async () => {
    const client = clientFor(`http://127.0.0.1:${await closedPort()}`);
    try {
      const generate = await rejection(kmsDataKeys(client, target().dataKeyId).generate(context));
      expect(isServiceError(generate, "dependency_unavailable")).toBe(true);
      const decrypt = await rejection(kmsDataKeys(client, target().dataKeyId).decrypt(utf8("x"), context));
      expect(isServiceError(decrypt, "dependency_unavailable")).toBe(true);
      const verify = await rejection(kmsStateMac(client, target().macKeyId).verify(utf8("m"), utf8("t")));
      expect(isServiceError(verify, "dependency_unavailable")).toBe(true);
      expect((verify as Error).message).toBe("The key service is unavailable");
    } finally {
      client.destroy();
    }
  });
}

async function waitForMoto(url: string, child: ChildProcess): Promise<void> {
  for (let attempt = 0; attempt < 100; attempt++) {
    if (child.exitCode !== null) throw new Error(`moto exited with code ${child.exitCode}`);
    const answered = await fetch(`${url}/moto-api/`).then(
      (response) => response.ok,
      () => false,
    );
    if (answered) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error("moto did not answer within 10 s");
}

describe("kms", () => {
  describe("against the local KMS", () => {
    let kms: Awaited<ReturnType<typeof startLocalKms>>;
    let target: Target;

    beforeAll(async () => {
      kms = await startLocalKms({ port: 0 });
      target = await createKeys(clientFor(kms.url));
    });

    afterAll(async () => {
      target?.client.destroy();
      await kms?.close();
    });

    sharedCases(() => target);
  });

  describe.skipIf(!motoAvailable)("against moto", () => {
    let moto: ChildProcess | undefined;
    let target: Target;

    beforeAll(async () => {
      const port = await closedPort();
      moto = spawn("python3", ["-m", "moto.server", "-H", "127.0.0.1", "-p", String(port)], {
        stdio: "ignore",
      });
      const url = `http://127.0.0.1:${port}`;
      await waitForMoto(url, moto);
      target = await createKeys(clientFor(url));
    });

    afterAll(async () => {
      target?.client.destroy();
      const child = moto;
      if (child?.pid === undefined || child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once("exit", resolve));
      process.kill(child.pid, "SIGTERM");
      await exited;
    });

    sharedCases(() => target);
  });
});
