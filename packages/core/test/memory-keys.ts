/** In-process stand-ins for the KMS ports, for unit tests only (integration tests use the local KMS). */
import { createCipheriv, createDecipheriv, createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import type { DataKeys, StateMac } from "../src/ports.ts";

export function memoryStateMac(): StateMac & { calls: number } {
  const key = randomBytes(32);
  const mac = {
    calls: 0,
    async generate(message: Uint8Array) {
      mac.calls++;
      return new Uint8Array(createHmac("sha256", key).update(message).digest());
    },
    async verify(message: Uint8Array, tag: Uint8Array) {
      mac.calls++;
      const expected = createHmac("sha256", key).update(message).digest();
      return expected.length === tag.length && timingSafeEqual(expected, tag);
    },
  };
  return mac;
}

export function memoryDataKeys(): DataKeys & { decrypts: number } {
  const master = randomBytes(32);
  const keys = {
    decrypts: 0,
    async generate(context: object) {
      const plaintext = randomBytes(32);
      const iv = randomBytes(12);
      const cipher = createCipheriv("aes-256-gcm", master, iv).setAAD(Buffer.from(JSON.stringify(context)));
      const encrypted = Buffer.concat([iv, cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
      return { plaintext: new Uint8Array(plaintext), encrypted: new Uint8Array(encrypted) };
    },
    async decrypt(encrypted: Uint8Array, context: object) {
      keys.decrypts++;
      const data = Buffer.from(encrypted);
      const decipher = createDecipheriv("aes-256-gcm", master, data.subarray(0, 12)).setAAD(
        Buffer.from(JSON.stringify(context)),
      );
      decipher.setAuthTag(data.subarray(data.length - 16));
      return new Uint8Array(
        Buffer.concat([decipher.update(data.subarray(12, data.length - 16)), decipher.final()]),
      );
    },
  };
  return keys;
}
