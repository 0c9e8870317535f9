import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  CreateAliasCommand,
  CreateKeyCommand,
  DecryptCommand,
  DescribeKeyCommand,
  EnableKeyRotationCommand,
  EncryptCommand,
  GenerateDataKeyCommand,
  GenerateMacCommand,
  GetKeyRotationStatusCommand,
  KMSClient,
  ListAliasesCommand,
  NotFoundException,
  RotateKeyOnDemandCommand,
  VerifyMacCommand,
} from "@aws-sdk/client-kms";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startLocalKms } from "../src/kms-server.ts";

type LocalKms = Awaited<ReturnType<typeof startLocalKms>>;

const utf8 = (text: string) => new TextEncoder().encode(text);
const context = { orgId: "org-1", connectorId: "conn-1", purpose: "tokens" };

function clientFor(url: string): KMSClient {
  return new KMSClient({
    endpoint: url,
    region: "us-east-1",
    credentials: { accessKeyId: "local", secretAccessKey: "local" },
    maxAttempts: 1,
  });
}

async function createKey(client: KMSClient, kind: "symmetric" | "hmac"): Promise<string> {
  const input =
    kind === "hmac"
      ? { KeySpec: "HMAC_256" as const, KeyUsage: "GENERATE_VERIFY_MAC" as const }
      : { KeySpec: "SYMMETRIC_DEFAULT" as const, KeyUsage: "ENCRYPT_DECRYPT" as const };
  const { KeyMetadata } = await client.send(new CreateKeyCommand(input));
  if (!KeyMetadata?.KeyId) throw new Error("CreateKey returned no key id");
  return KeyMetadata.KeyId;
}

async function rejectionName(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  return error instanceof Error ? error.name : "resolved";
}

describe("kms-server", () => {
  let kms: LocalKms;
  let client: KMSClient;
  let symmetricKey: string;
  let hmacKey: string;

  beforeAll(async () => {
    kms = await startLocalKms({ port: 0 });
    client = clientFor(kms.url);
    symmetricKey = await createKey(client, "symmetric");
    hmacKey = await createKey(client, "hmac");
  });

  afterAll(async () => {
    client?.destroy();
    await kms?.close();
  });

  it("listens on 127.0.0.1 and describes a created key when asked by id", async () => {
    expect(kms.url).toBe(`http://127.0.0.1:${kms.port}`);
    const { KeyMetadata } = await client.send(new DescribeKeyCommand({ KeyId: symmetricKey }));
    expect(KeyMetadata?.Arn).toBe(`arn:aws:kms:us-east-1:000000000000:key/${symmetricKey}`);
    expect(KeyMetadata?.KeyUsage).toBe("ENCRYPT_DECRYPT");
    expect(KeyMetadata?.KeySpec).toBe("SYMMETRIC_DEFAULT");
    expect(KeyMetadata?.CreationDate).toBeInstanceOf(Date);
  });

  it("decrypts a generated data key when the encryption context matches", async () => {
    const key = await client.send(
      new GenerateDataKeyCommand({ KeyId: symmetricKey, KeySpec: "AES_256", EncryptionContext: context }),
    );
    expect(key.Plaintext).toHaveLength(32);
    const opened = await client.send(
      new DecryptCommand({
        CiphertextBlob: key.CiphertextBlob,
        EncryptionContext: context,
        KeyId: symmetricKey,
      }),
    );
    expect(opened.Plaintext).toEqual(key.Plaintext);
    expect(opened.KeyId).toBe(`arn:aws:kms:us-east-1:000000000000:key/${symmetricKey}`);
  });

  it("generates a data key of NumberOfBytes when no KeySpec is given", async () => {
    const key = await client.send(new GenerateDataKeyCommand({ KeyId: symmetricKey, NumberOfBytes: 7 }));
    expect(key.Plaintext).toHaveLength(7);
  });

  it("refuses to decrypt when the encryption context differs or is missing", async () => {
    const { CiphertextBlob } = await client.send(
      new EncryptCommand({ KeyId: symmetricKey, Plaintext: utf8("secret"), EncryptionContext: context }),
    );
    const other = { ...context, connectorId: "conn-2" };
    expect(
      await rejectionName(client.send(new DecryptCommand({ CiphertextBlob, EncryptionContext: other }))),
    ).toBe("InvalidCiphertextException");
    expect(await rejectionName(client.send(new DecryptCommand({ CiphertextBlob })))).toBe(
      "InvalidCiphertextException",
    );
  });

  it("refuses to decrypt when the blob was tampered with", async () => {
    const { CiphertextBlob } = await client.send(
      new EncryptCommand({ KeyId: symmetricKey, Plaintext: utf8("x") }),
    );
    const tampered = Uint8Array.from(CiphertextBlob ?? []);
    tampered[tampered.length - 1] = (tampered[tampered.length - 1] ?? 0) ^ 1;
    expect(await rejectionName(client.send(new DecryptCommand({ CiphertextBlob: tampered })))).toBe(
      "InvalidCiphertextException",
    );
    expect(await rejectionName(client.send(new DecryptCommand({ CiphertextBlob: utf8("garbage") })))).toBe(
      "InvalidCiphertextException",
    );
  });

  it("throws IncorrectKeyException when Decrypt names another key", async () => {
    const otherKey = await createKey(client, "symmetric");
    const { CiphertextBlob } = await client.send(
      new EncryptCommand({ KeyId: symmetricKey, Plaintext: utf8("x") }),
    );
    expect(await rejectionName(client.send(new DecryptCommand({ CiphertextBlob, KeyId: otherKey })))).toBe(
      "IncorrectKeyException",
    );
  });

  it("verifies a MAC when it is right and throws KMSInvalidMacException when it is not", async () => {
    const message = utf8("state payload");
    const { Mac } = await client.send(
      new GenerateMacCommand({ KeyId: hmacKey, Message: message, MacAlgorithm: "HMAC_SHA_256" }),
    );
    expect(Mac).toHaveLength(32);
    const ok = await client.send(
      new VerifyMacCommand({ KeyId: hmacKey, Message: message, Mac, MacAlgorithm: "HMAC_SHA_256" }),
    );
    expect(ok.MacValid).toBe(true);
    const wrong = Uint8Array.from(Mac ?? []);
    wrong[0] = (wrong[0] ?? 0) ^ 1;
    const verifyWrong = new VerifyMacCommand({
      KeyId: hmacKey,
      Message: message,
      Mac: wrong,
      MacAlgorithm: "HMAC_SHA_256",
    });
    expect(await rejectionName(client.send(verifyWrong))).toBe("KMSInvalidMacException");
  });

  it("throws InvalidKeyUsageException when a key is used for the other purpose", async () => {
    const encryptWithHmac = new EncryptCommand({ KeyId: hmacKey, Plaintext: utf8("x") });
    expect(await rejectionName(client.send(encryptWithHmac))).toBe("InvalidKeyUsageException");
    const macWithSymmetric = new GenerateMacCommand({
      KeyId: symmetricKey,
      Message: utf8("x"),
      MacAlgorithm: "HMAC_SHA_256",
    });
    expect(await rejectionName(client.send(macWithSymmetric))).toBe("InvalidKeyUsageException");
  });

  it("resolves a key by alias name and alias ARN when an alias was created", async () => {
    await client.send(new CreateAliasCommand({ AliasName: "alias/state", TargetKeyId: hmacKey }));
    const byName = await client.send(new DescribeKeyCommand({ KeyId: "alias/state" }));
    expect(byName.KeyMetadata?.KeyId).toBe(hmacKey);
    const aliasArn = "arn:aws:kms:us-east-1:000000000000:alias/state";
    const byArn = await client.send(new DescribeKeyCommand({ KeyId: aliasArn }));
    expect(byArn.KeyMetadata?.KeyId).toBe(hmacKey);
    const { Aliases } = await client.send(new ListAliasesCommand({ KeyId: hmacKey }));
    expect(Aliases?.map((alias) => [alias.AliasName, alias.AliasArn, alias.TargetKeyId])).toEqual([
      ["alias/state", aliasArn, hmacKey],
    ]);
    const again = new CreateAliasCommand({ AliasName: "alias/state", TargetKeyId: symmetricKey });
    expect(await rejectionName(client.send(again))).toBe("AlreadyExistsException");
  });

  it("still decrypts an old ciphertext when the key was rotated on demand", async () => {
    await client.send(new EnableKeyRotationCommand({ KeyId: symmetricKey }));
    const status = await client.send(new GetKeyRotationStatusCommand({ KeyId: symmetricKey }));
    expect(status.KeyRotationEnabled).toBe(true);
    expect(status.RotationPeriodInDays).toBe(365);
    const before = await client.send(new EncryptCommand({ KeyId: symmetricKey, Plaintext: utf8("before") }));
    await client.send(new RotateKeyOnDemandCommand({ KeyId: symmetricKey }));
    const after = await client.send(new EncryptCommand({ KeyId: symmetricKey, Plaintext: utf8("before") }));
    expect(before.CiphertextBlob).not.toEqual(after.CiphertextBlob);
    for (const blob of [before.CiphertextBlob, after.CiphertextBlob]) {
      const { Plaintext } = await client.send(new DecryptCommand({ CiphertextBlob: blob }));
      expect(new TextDecoder().decode(Plaintext)).toBe("before");
    }
  });

  it("throws NotFoundException when the key or alias does not exist", async () => {
    const unknownId = "00000000-0000-0000-0000-000000000000";
    const describeUnknown = client.send(new DescribeKeyCommand({ KeyId: unknownId }));
    await expect(describeUnknown).rejects.toBeInstanceOf(NotFoundException);
    await expect(describeUnknown).rejects.toThrow(`Key '${unknownId}' does not exist`);
    const unknownAlias = new EncryptCommand({ KeyId: "alias/none", Plaintext: utf8("x") });
    expect(await rejectionName(client.send(unknownAlias))).toBe("NotFoundException");
  });
});

describe("kms-server persistence", () => {
  let dataDir: string;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), "local-kms-"));
  });

  afterAll(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it("keeps keys, aliases and rotated material when restarted with the same dataDir", async () => {
    const first = await startLocalKms({ dataDir });
    const firstClient = clientFor(first.url);
    let blob: Uint8Array | undefined;
    let mac: Uint8Array | undefined;
    try {
      const keyId = await createKey(firstClient, "symmetric");
      const hmacKey = await createKey(firstClient, "hmac");
      await firstClient.send(new CreateAliasCommand({ AliasName: "alias/tokens", TargetKeyId: keyId }));
      blob = (await firstClient.send(new EncryptCommand({ KeyId: "alias/tokens", Plaintext: utf8("kept") })))
        .CiphertextBlob;
      await firstClient.send(new RotateKeyOnDemandCommand({ KeyId: keyId }));
      await firstClient.send(new CreateAliasCommand({ AliasName: "alias/mac", TargetKeyId: hmacKey }));
      const generate = new GenerateMacCommand({
        KeyId: "alias/mac",
        Message: utf8("m"),
        MacAlgorithm: "HMAC_SHA_256",
      });
      mac = (await firstClient.send(generate)).Mac;
    } finally {
      firstClient.destroy();
      await first.close();
    }
    const file = join(dataDir, "kms-keys.json");
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(JSON.parse(await readFile(file, "utf8")).keys).toHaveLength(2);

    const second = await startLocalKms({ dataDir });
    const secondClient = clientFor(second.url);
    try {
      const { Plaintext } = await secondClient.send(
        new DecryptCommand({ CiphertextBlob: blob, KeyId: "alias/tokens" }),
      );
      expect(new TextDecoder().decode(Plaintext)).toBe("kept");
      const verify = new VerifyMacCommand({
        KeyId: "alias/mac",
        Message: utf8("m"),
        Mac: mac,
        MacAlgorithm: "HMAC_SHA_256",
      });
      expect((await secondClient.send(verify)).MacValid).toBe(true);
    } finally {
      secondClient.destroy();
      await second.close();
    }
  });
});
