/**
 * Envelope encryption of secrets at rest (tokens, client secrets).
 *
 * Layout of a sealed value (stored as a DynamoDB map), version 2:
 *   { v: 2, edk: base64(KMS-encrypted data key), iv: base64(12 random bytes),
 *     ct: base64(AES-256-GCM ciphertext || 16-byte tag) }
 * Each write asks KMS GenerateDataKey for one fresh AES-256 key under the encryption context
 * {orgId, connectorId, purpose, config}; every field sealed in that write (for tokens: `access`,
 * `refresh`) uses it with its own IV. The GCM additional authenticated data is the JSON array
 * [orgId, connectorId, purpose, config, field]. The context is never stored: it is rebuilt from where
 * the value is found and from the connector's current configuration (`config` is its digest,
 * config-binding.ts), so a ciphertext copied to another connector, purpose or field, or opened after
 * the configuration was changed, fails to decrypt (KMS refuses the data key, GCM refuses the tag).
 * Version 1 (no configuration binding) is refused as needs_reauth: such a value could be opened for a
 * re-pointed connector, so it must be written again (save the definition, reconnect).
 */
import { type Bytes, fromBase64, toBase64, utf8 } from "./encoding.ts";
import { fail } from "./errors.ts";
import type { DataKeys } from "./ports.ts";
import type { EncryptionContext, Sealed } from "./types.ts";

export const ENVELOPE_VERSION: Sealed["v"] = 2;

const IV_BYTES = 12;

/** The exact AAD bytes for one field under a context (fixed order, so writer and reader agree). */
export function fieldAad(context: EncryptionContext, field: string): Bytes {
  const { orgId, connectorId, purpose, config } = context;
  return utf8(JSON.stringify([orgId, connectorId, purpose, config, field]));
}

async function importKey(raw: Bytes, usage: KeyUsage): Promise<CryptoKey> {
  const key = await crypto.subtle.importKey("raw", raw, "AES-GCM", false, [usage]);
  raw.fill(0);
  return key;
}

/** Seals the given fields under one fresh data key (one KMS call); absent fields are skipped. */
export async function sealFields<F extends string>(
  keys: DataKeys,
  context: EncryptionContext,
  fields: Partial<Record<F, string>>,
): Promise<Partial<Record<F, Sealed>>> {
  const dataKey = await keys.generate(context);
  const edk = toBase64(dataKey.encrypted);
  const key = await importKey(dataKey.plaintext, "encrypt");
  const sealed: Partial<Record<F, Sealed>> = {};
  for (const [field, plaintext] of Object.entries(fields) as [F, string | undefined][]) {
    if (typeof plaintext !== "string") continue;
    const iv = crypto.getRandomValues(new Uint8Array(IV_BYTES));
    const ct = await crypto.subtle.encrypt(
      { name: "AES-GCM", iv, additionalData: fieldAad(context, field) },
      key,
      utf8(plaintext),
    );
    sealed[field] = { v: ENVELOPE_VERSION, edk, iv: toBase64(iv), ct: toBase64(new Uint8Array(ct)) };
  }
  return sealed;
}

/** Seals one secret (the client secret) with a fresh data key. */
export async function sealSecret(
  keys: DataKeys,
  context: EncryptionContext,
  plaintext: string,
): Promise<Sealed> {
  const { value } = await sealFields(keys, context, { value: plaintext });
  if (!value) throw fail("internal_error", "Sealing produced no value");
  return value;
}

/** Opens a sealed field found under `context`; internal_error if it was moved, swapped or altered. */
export async function openField(
  keys: DataKeys,
  context: EncryptionContext,
  field: string,
  sealed: Sealed,
): Promise<string> {
  if ((sealed?.v as number) === 1) {
    throw fail(
      "needs_reauth",
      "A stored secret predates configuration binding; save the connector and connect it again",
    );
  }
  if (sealed?.v !== ENVELOPE_VERSION) throw fail("internal_error", "Unsupported secret envelope version");
  const key = await importKey(await keys.decrypt(fromBase64(sealed.edk), context), "decrypt");
  try {
    const plaintext = await crypto.subtle.decrypt(
      { name: "AES-GCM", iv: fromBase64(sealed.iv), additionalData: fieldAad(context, field) },
      key,
      fromBase64(sealed.ct),
    );
    return new TextDecoder().decode(plaintext);
  } catch (error) {
    throw fail("internal_error", "A stored secret failed its integrity check", error);
  }
}

/** Opens several sealed fields of one context, asking KMS once per distinct data key. */
export async function openFields<F extends string>(
  keys: DataKeys,
  context: EncryptionContext,
  fields: Partial<Record<F, Sealed>>,
): Promise<Partial<Record<F, string>>> {
  const dataKeys = new Map<string, Promise<Bytes>>();
  const once: DataKeys = {
    generate: (c) => keys.generate(c),
    decrypt: async (encrypted, c) => {
      const id = toBase64(encrypted);
      if (!dataKeys.has(id)) dataKeys.set(id, keys.decrypt(encrypted, c));
      return (await dataKeys.get(id))?.slice() as Bytes;
    },
  };
  const opened: Partial<Record<F, string>> = {};
  for (const [field, sealed] of Object.entries(fields) as [F, Sealed | undefined][]) {
    if (sealed) opened[field] = await openField(once, context, field, sealed);
  }
  return opened;
}

/** Opens a value sealed with sealSecret. */
export function openSecret(keys: DataKeys, context: EncryptionContext, sealed: Sealed): Promise<string> {
  return openField(keys, context, "value", sealed);
}
