/**
 * A DataKeys decorator that keeps decrypted client-secret data keys in memory for a short time, so a
 * warm function does not call KMS Decrypt for the same connector's client secret on every connect.
 * Token data keys are never cached. Entries are copies, bounded in number and age.
 */
import { type Bytes, toBase64 } from "./encoding.ts";
import type { DataKeys } from "./ports.ts";
import type { EncryptionContext } from "./types.ts";

export interface KeyCacheOptions {
  ttlMs: number;
  maxEntries: number;
  now: () => number;
}

export function cachingDataKeys(keys: DataKeys, options: KeyCacheOptions): DataKeys {
  const cache = new Map<string, { key: Bytes; until: number }>();
  const id = (encrypted: Bytes, c: EncryptionContext) =>
    JSON.stringify([c.orgId, c.connectorId, c.purpose, c.config, toBase64(encrypted)]);
  return {
    generate: (context) => keys.generate(context),
    async decrypt(encrypted, context) {
      if (context.purpose !== "client-secret") return keys.decrypt(encrypted, context);
      const entryId = id(encrypted, context);
      const hit = cache.get(entryId);
      if (hit && hit.until > options.now()) return hit.key.slice();
      const key = await keys.decrypt(encrypted, context);
      if (cache.size >= options.maxEntries) cache.delete(cache.keys().next().value as string);
      cache.set(entryId, { key: key.slice(), until: options.now() + options.ttlMs });
      return key;
    },
  };
}
