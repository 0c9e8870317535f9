/**
 * A local KMS for development and integration tests. It speaks the real KMS JSON 1.1 protocol
 * (POST /, `X-Amz-Target: TrentService.<Op>`, base64 blobs, errors as HTTP 400 with `__type` and
 * `x-amzn-ErrorType`), so the unmodified AWS SDK v3 talks to it. Given `credentials`, it refuses
 * requests not SigV4-signed with them (sigv4.ts); it answers only to loopback Host names and
 * listens on 127.0.0.1 only.
 *
 * Ciphertext blob layout, version 1 (this server's own format, not AWS's):
 *   [0]        version = 0x01
 *   [1]        n = byte length of the key id (ASCII)
 *   [2..2+n)   key id
 *   next 4     key material version (uint32, big-endian; 0 = original, +1 per rotation)
 *   next 12    AES-GCM IV
 *   rest       AES-256-GCM ciphertext || 16-byte tag
 * The AAD is the canonical JSON (keys sorted) of the encryption context, `{}` when there is none,
 * so a blob decrypts only under exactly the context it was made with. Rotation appends a material
 * version and keeps the old ones, so earlier blobs still decrypt.
 *
 * Key material lives unencrypted in `<dataDir>/kms-keys.json` (mode 0600, replaced atomically by
 * write + rename) so keys survive a restart; without `dataDir` everything is in memory. Local use only.
 */
import {
  createCipheriv,
  createDecipheriv,
  createHmac,
  randomBytes,
  randomUUID,
  timingSafeEqual,
} from "node:crypto";
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { hostAllowed } from "@connector-oauth/config";
import { type Credentials, verifySigV4 } from "./sigv4.ts";

type KeySpec = "SYMMETRIC_DEFAULT" | "HMAC_256";
type KeyUsage = "ENCRYPT_DECRYPT" | "GENERATE_VERIFY_MAC";

interface KeyRecord {
  keyId: string;
  keySpec: KeySpec;
  keyUsage: KeyUsage;
  description: string;
  createdAt: number;
  rotationPeriodInDays?: number;
  /** base64 AES-256 or HMAC key material; index = material version, last = current. */
  materials: string[];
}

interface AliasRecord {
  aliasName: string;
  targetKeyId: string;
  createdAt: number;
}

interface State {
  keys: Map<string, KeyRecord>;
  aliases: Map<string, AliasRecord>;
  region: string;
  /** Persists the keys; resolves once this and every earlier write is on disk. */
  save(): Promise<void>;
}

type Body = Record<string, unknown>;
type Operation = (state: State, body: Body) => Body | Promise<Body>;

const BLOB_VERSION = 1;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const ACCOUNT = "000000000000";
const MAC_ALGORITHM = "HMAC_SHA_256";
const ENCRYPTION_ALGORITHM = "SYMMETRIC_DEFAULT";
const USAGE_BY_SPEC: Record<KeySpec, KeyUsage> = {
  SYMMETRIC_DEFAULT: "ENCRYPT_DECRYPT",
  HMAC_256: "GENERATE_VERIFY_MAC",
};

/** An error KMS would return: `type` is the exception name the SDK maps to its class. */
function kmsError(type: string, message: string): never {
  throw Object.assign(new Error(message), { kmsType: type });
}

function arn(state: State, resource: string): string {
  return `arn:aws:kms:${state.region}:${ACCOUNT}:${resource}`;
}

function keyArn(state: State, key: KeyRecord): string {
  return arn(state, `key/${key.keyId}`);
}

const base64 = (data: Buffer) => data.toString("base64");
const nowSeconds = () => Math.floor(Date.now() / 1000);

function text(body: Body, name: string): string {
  const value = body[name];
  if (typeof value !== "string" || value === "") kmsError("ValidationException", `${name} is required`);
  return value;
}

function blob(body: Body, name: string): Buffer {
  return Buffer.from(text(body, name), "base64");
}

/** Resolves a key id, key ARN, `alias/name` or alias ARN to the key record. */
function findKey(state: State, given: string): KeyRecord {
  const aliasName = given.match(/^(?:arn:aws:kms:[^:]*:[^:]*:)?(alias\/.+)$/)?.[1];
  const keyId = aliasName
    ? state.aliases.get(aliasName)?.targetKeyId
    : given.replace(/^arn:aws:kms:.*:key\//, "");
  const key = keyId === undefined ? undefined : state.keys.get(keyId);
  return key ?? kmsError("NotFoundException", `Key '${given}' does not exist`);
}

function keyFor(state: State, body: Body, usage: KeyUsage): KeyRecord {
  const key = findKey(state, text(body, "KeyId"));
  if (key.keyUsage !== usage)
    kmsError("InvalidKeyUsageException", `${key.keyId} key usage is ${key.keyUsage}`);
  return key;
}

/** Canonical JSON of the encryption context: the GCM additional authenticated data. */
function contextAad(body: Body): Buffer {
  const context = (body.EncryptionContext ?? {}) as Record<string, unknown>;
  const entries = Object.entries(context).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  if (entries.some(([, value]) => typeof value !== "string")) kmsError("ValidationException", "Bad context");
  return Buffer.from(JSON.stringify(Object.fromEntries(entries)));
}

function material(key: KeyRecord, version: number): Buffer {
  const encoded = key.materials[version] ?? kmsError("InvalidCiphertextException", "Unknown key material");
  return Buffer.from(encoded, "base64");
}

function seal(key: KeyRecord, plaintext: Buffer, aad: Buffer): Buffer {
  const version = key.materials.length - 1;
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv("aes-256-gcm", material(key, version), iv).setAAD(aad);
  const header = Buffer.alloc(2 + key.keyId.length + 4);
  header.writeUInt8(BLOB_VERSION, 0);
  header.writeUInt8(key.keyId.length, 1);
  header.write(key.keyId, 2, "ascii");
  header.writeUInt32BE(version, 2 + key.keyId.length);
  return Buffer.concat([header, iv, cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
}

function parseBlob(data: Buffer): { keyId: string; version: number; iv: Buffer; sealed: Buffer } {
  const idLength = data[1] ?? 0;
  const ivStart = 2 + idLength + 4;
  if (data[0] !== BLOB_VERSION || data.length < ivStart + IV_BYTES + TAG_BYTES) {
    kmsError("InvalidCiphertextException", "The ciphertext is invalid");
  }
  const keyId = data.subarray(2, 2 + idLength).toString("ascii");
  const iv = data.subarray(ivStart, ivStart + IV_BYTES);
  return { keyId, version: data.readUInt32BE(2 + idLength), iv, sealed: data.subarray(ivStart + IV_BYTES) };
}

function open(key: KeyRecord, parsed: ReturnType<typeof parseBlob>, aad: Buffer): Buffer {
  const decipher = createDecipheriv("aes-256-gcm", material(key, parsed.version), parsed.iv).setAAD(aad);
  decipher.setAuthTag(parsed.sealed.subarray(-TAG_BYTES));
  try {
    return Buffer.concat([decipher.update(parsed.sealed.subarray(0, -TAG_BYTES)), decipher.final()]);
  } catch {
    return kmsError("InvalidCiphertextException", "The ciphertext is invalid");
  }
}

function keyMetadata(state: State, key: KeyRecord): Body {
  const isMac = key.keySpec === "HMAC_256";
  const algorithms = isMac
    ? { MacAlgorithms: [MAC_ALGORITHM] }
    : { EncryptionAlgorithms: [ENCRYPTION_ALGORITHM] };
  return {
    AWSAccountId: ACCOUNT,
    KeyId: key.keyId,
    Arn: keyArn(state, key),
    CreationDate: key.createdAt,
    Enabled: true,
    Description: key.description,
    KeyUsage: key.keyUsage,
    KeyState: "Enabled",
    Origin: "AWS_KMS",
    KeyManager: "CUSTOMER",
    CustomerMasterKeySpec: key.keySpec,
    KeySpec: key.keySpec,
    MultiRegion: false,
    ...algorithms,
  };
}

function dataKeyLength(body: Body): number {
  if (body.KeySpec !== undefined && body.NumberOfBytes !== undefined) {
    kmsError("ValidationException", "Specify KeySpec or NumberOfBytes, not both");
  }
  if (body.KeySpec === "AES_256") return 32;
  if (body.KeySpec === "AES_128") return 16;
  const bytes = body.NumberOfBytes;
  if (typeof bytes === "number" && Number.isInteger(bytes) && bytes >= 1 && bytes <= 1024) return bytes;
  return kmsError("ValidationException", "A valid KeySpec or NumberOfBytes is required");
}

function hmac(key: KeyRecord, body: Body): Buffer {
  if (body.MacAlgorithm !== MAC_ALGORITHM) kmsError("InvalidKeyUsageException", "Unsupported MacAlgorithm");
  // HMAC keys never rotate (as in real KMS), so they have exactly one material version.
  return createHmac("sha256", material(key, 0)).update(blob(body, "Message")).digest();
}

async function createKey(state: State, body: Body): Promise<Body> {
  const keySpec = (body.KeySpec ?? "SYMMETRIC_DEFAULT") as KeySpec;
  const keyUsage = USAGE_BY_SPEC[keySpec];
  if (!keyUsage || (body.KeyUsage ?? keyUsage) !== keyUsage)
    kmsError("ValidationException", "Unsupported KeySpec");
  const key: KeyRecord = {
    keyId: randomUUID(),
    keySpec,
    keyUsage,
    description: typeof body.Description === "string" ? body.Description : "",
    createdAt: nowSeconds(),
    materials: [base64(randomBytes(32))],
  };
  state.keys.set(key.keyId, key);
  await state.save();
  return { KeyMetadata: keyMetadata(state, key) };
}

async function createAlias(state: State, body: Body): Promise<Body> {
  const aliasName = text(body, "AliasName");
  if (!/^alias\/[a-zA-Z0-9/_-]+$/.test(aliasName) || aliasName.startsWith("alias/aws/")) {
    kmsError("InvalidAliasNameException", `Invalid alias name ${aliasName}`);
  }
  if (state.aliases.has(aliasName)) kmsError("AlreadyExistsException", `Alias ${aliasName} already exists`);
  const targetKeyId = findKey(state, text(body, "TargetKeyId")).keyId;
  state.aliases.set(aliasName, { aliasName, targetKeyId, createdAt: nowSeconds() });
  await state.save();
  return {};
}

function listAliases(state: State, body: Body): Body {
  const only = typeof body.KeyId === "string" ? findKey(state, body.KeyId).keyId : undefined;
  const aliases = [...state.aliases.values()].filter((alias) => !only || alias.targetKeyId === only);
  const entry = (alias: AliasRecord) => ({
    AliasName: alias.aliasName,
    AliasArn: arn(state, alias.aliasName),
    TargetKeyId: alias.targetKeyId,
    CreationDate: alias.createdAt,
  });
  return { Aliases: aliases.map(entry), Truncated: false };
}

async function enableKeyRotation(state: State, body: Body): Promise<Body> {
  const key = keyFor(state, body, "ENCRYPT_DECRYPT");
  const days = body.RotationPeriodInDays ?? 365;
  if (typeof days !== "number" || days < 90 || days > 2560) kmsError("ValidationException", "Bad period");
  key.rotationPeriodInDays = days;
  await state.save();
  return {};
}

function rotationStatus(state: State, body: Body): Body {
  const key = findKey(state, text(body, "KeyId"));
  const period = key.rotationPeriodInDays;
  const enabled = { KeyRotationEnabled: period !== undefined, KeyId: keyArn(state, key) };
  return period === undefined ? enabled : { ...enabled, RotationPeriodInDays: period };
}

async function rotateKeyOnDemand(state: State, body: Body): Promise<Body> {
  const key = findKey(state, text(body, "KeyId"));
  if (key.keySpec !== "SYMMETRIC_DEFAULT") kmsError("UnsupportedOperationException", "Key cannot rotate");
  key.materials.push(base64(randomBytes(32)));
  await state.save();
  return { KeyId: key.keyId };
}

function generateDataKey(state: State, body: Body): Body {
  const key = keyFor(state, body, "ENCRYPT_DECRYPT");
  const plaintext = randomBytes(dataKeyLength(body));
  const ciphertext = seal(key, plaintext, contextAad(body));
  return { CiphertextBlob: base64(ciphertext), Plaintext: base64(plaintext), KeyId: keyArn(state, key) };
}

function encrypt(state: State, body: Body): Body {
  const key = keyFor(state, body, "ENCRYPT_DECRYPT");
  const plaintext = blob(body, "Plaintext");
  if (plaintext.length > 4096) kmsError("ValidationException", "Plaintext is longer than 4096 bytes");
  const ciphertext = seal(key, plaintext, contextAad(body));
  return {
    CiphertextBlob: base64(ciphertext),
    KeyId: keyArn(state, key),
    EncryptionAlgorithm: ENCRYPTION_ALGORITHM,
  };
}

function decrypt(state: State, body: Body): Body {
  const parsed = parseBlob(blob(body, "CiphertextBlob"));
  const key = state.keys.get(parsed.keyId) ?? kmsError("InvalidCiphertextException", "Unknown key");
  if (typeof body.KeyId === "string" && findKey(state, body.KeyId).keyId !== key.keyId) {
    kmsError("IncorrectKeyException", "The key ID does not identify the key used to encrypt");
  }
  if (key.keyUsage !== "ENCRYPT_DECRYPT") kmsError("InvalidKeyUsageException", "The key cannot decrypt");
  const plaintext = open(key, parsed, contextAad(body));
  return {
    KeyId: keyArn(state, key),
    Plaintext: base64(plaintext),
    EncryptionAlgorithm: ENCRYPTION_ALGORITHM,
  };
}

function generateMac(state: State, body: Body): Body {
  const key = keyFor(state, body, "GENERATE_VERIFY_MAC");
  return { Mac: base64(hmac(key, body)), MacAlgorithm: MAC_ALGORITHM, KeyId: keyArn(state, key) };
}

/** Like real KMS, a wrong MAC is an error (KMSInvalidMacException), never `MacValid: false`. */
function verifyMac(state: State, body: Body): Body {
  const key = keyFor(state, body, "GENERATE_VERIFY_MAC");
  const expected = hmac(key, body);
  const given = blob(body, "Mac");
  const valid = given.length === expected.length && timingSafeEqual(given, expected);
  if (!valid) kmsError("KMSInvalidMacException", "");
  return { KeyId: keyArn(state, key), MacValid: true, MacAlgorithm: MAC_ALGORITHM };
}

const OPERATIONS: Record<string, Operation> = {
  CreateKey: createKey,
  DescribeKey: (state, body) => ({ KeyMetadata: keyMetadata(state, findKey(state, text(body, "KeyId"))) }),
  CreateAlias: createAlias,
  ListAliases: listAliases,
  EnableKeyRotation: enableKeyRotation,
  GetKeyRotationStatus: rotationStatus,
  RotateKeyOnDemand: rotateKeyOnDemand,
  GenerateDataKey: generateDataKey,
  Encrypt: encrypt,
  Decrypt: decrypt,
  GenerateMac: generateMac,
  VerifyMac: verifyMac,
};

/** Errors carry `__type` and `x-amzn-ErrorType`: the AWS SDK reads either to pick its exception class. */
function reply(response: ServerResponse, status: number, body: Body, errorType?: string): void {
  const headers: Record<string, string> = {
    "content-type": "application/x-amz-json-1.1",
    "x-amzn-RequestId": randomUUID(),
  };
  if (errorType) headers["x-amzn-ErrorType"] = errorType;
  response.writeHead(status, headers).end(JSON.stringify(body));
}

function parseBody(bytes: Buffer): Body {
  const raw = bytes.toString("utf8") || "{}";
  try {
    const parsed: unknown = JSON.parse(raw);
    if (typeof parsed === "object" && parsed !== null && !Array.isArray(parsed)) return parsed as Body;
  } catch {}
  return kmsError("SerializationException", "The request body is not a JSON object");
}

/** Refuses a foreign Host or a request not signed with `credentials` (when given). */
async function authenticate(request: IncomingMessage, body: Buffer, credentials?: Credentials) {
  if (!hostAllowed(request)) kmsError("AccessDeniedException", "This server answers only to localhost");
  if (!credentials) return;
  const received = { method: request.method ?? "", url: request.url ?? "/", headers: request.headers, body };
  const refusal = await verifySigV4(received, credentials);
  if (refusal) kmsError(refusal.type, refusal.message);
}

async function handle(
  state: State,
  request: IncomingMessage,
  response: ServerResponse,
  credentials?: Credentials,
): Promise<void> {
  try {
    const body = Buffer.concat(await request.toArray());
    await authenticate(request, body, credentials);
    const target = String(request.headers["x-amz-target"] ?? "");
    const operation = target.startsWith("TrentService.") ? OPERATIONS[target.slice(13)] : undefined;
    if (request.method !== "POST" || !operation) kmsError("UnknownOperationException", `Unknown ${target}`);
    reply(response, 200, await operation(state, parseBody(body)));
  } catch (error) {
    const type = (error as { kmsType?: string }).kmsType;
    const message = type ? (error as Error).message : "Internal error";
    const name = type ?? "KMSInternalException";
    reply(response, type ? 400 : 500, { __type: name, message }, name);
  }
}

/** Loads the key file, or starts empty; `save` rewrites it atomically and one write at a time. */
async function openState(region: string, dataDir?: string): Promise<State> {
  const keys = new Map<string, KeyRecord>();
  const aliases = new Map<string, AliasRecord>();
  if (!dataDir) return { keys, aliases, region, save: async () => {} };
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const file = join(dataDir, "kms-keys.json");
  const stored = await readFile(file, "utf8").then(JSON.parse, (error: NodeJS.ErrnoException) => {
    if (error.code === "ENOENT") return { keys: [], aliases: [] };
    throw error;
  });
  for (const key of stored.keys as KeyRecord[]) keys.set(key.keyId, key);
  for (const alias of stored.aliases as AliasRecord[]) aliases.set(alias.aliasName, alias);
  let queue = Promise.resolve();
  const write = async () => {
    const snapshot = JSON.stringify({ version: 1, keys: [...keys.values()], aliases: [...aliases.values()] });
    await writeFile(`${file}.tmp`, snapshot, { mode: 0o600 });
    await rename(`${file}.tmp`, file);
  };
  // One write at a time; a failed write fails its request but does not block later ones.
  const save = () => {
    queue = queue.catch(() => {}).then(write);
    return queue;
  };
  return { keys, aliases, region, save };
}

/** Starts the local KMS on 127.0.0.1 (port 0 = a free port); `close` stops it and ends connections. */
export async function startLocalKms(
  options: { port?: number; dataDir?: string; region?: string; credentials?: Credentials } = {},
): Promise<{ url: string; port: number; close(): Promise<void> }> {
  const state = await openState(options.region ?? "us-east-1", options.dataDir);
  const server = createServer(
    (request, response) => void handle(state, request, response, options.credentials),
  );
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject).listen(options.port ?? 0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const close = async () => {
    await new Promise<void>((resolve, reject) => {
      server.close((error) => (error ? reject(error) : resolve()));
      server.closeAllConnections();
    });
  };
  return { url: `http://127.0.0.1:${port}`, port, close };
}
