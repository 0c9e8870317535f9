import { describe, expect, it } from "vitest";
import { openField, openFields, openSecret, sealFields, sealSecret } from "../src/envelope.ts";
import { isServiceError } from "../src/errors.ts";
import { cachingDataKeys } from "../src/key-cache.ts";
import { memoryDataKeys } from "./memory-keys.ts";

const context = { orgId: "acme", connectorId: "drive", purpose: "tokens", config: "digest-1" } as const;

describe("envelope", () => {
  it("seals several fields under one data key and opens each with one unwrap", async () => {
    const keys = memoryDataKeys();
    const sealed = await sealFields(keys, context, {
      access: "at-123",
      refresh: "rt-456",
      idToken: undefined,
    });
    expect(Object.keys(sealed)).toEqual(["access", "refresh"]);
    expect(sealed.access?.edk).toBe(sealed.refresh?.edk);
    expect(JSON.stringify(sealed)).not.toMatch(/at-123|rt-456/);
    expect(await openFields(keys, context, sealed)).toEqual({ access: "at-123", refresh: "rt-456" });
    expect(keys.decrypts).toBe(1);
  });

  it("fails when a ciphertext is moved to another connector, purpose or field", async () => {
    const keys = memoryDataKeys();
    const { access } = await sealFields(keys, context, { access: "at-123" });
    const sealed = access as NonNullable<typeof access>;
    for (const [where, field] of [
      [{ ...context, connectorId: "other" }, "access"],
      [{ ...context, orgId: "globex" }, "access"],
      [{ ...context, purpose: "client-secret" as const }, "access"],
      [{ ...context, config: "digest-2" }, "access"],
      [context, "refresh"],
    ] as const) {
      const error = await openField(keys, where, field, sealed).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(Error);
    }
  });

  it("refuses a version 1 envelope (sealed before configuration binding) as needs_reauth", async () => {
    const keys = memoryDataKeys();
    const sealed = await sealSecret(keys, context, "s3cret");
    const error = await openSecret(keys, context, { ...sealed, v: 1 as never }).catch((e: unknown) => e);
    expect(isServiceError(error, "needs_reauth")).toBe(true);
    expect(keys.decrypts).toBe(0);
  });

  it("fails with internal_error when the ciphertext is altered", async () => {
    const keys = memoryDataKeys();
    const sealed = await sealSecret(keys, { ...context, purpose: "client-secret" }, "s3cret");
    const ct = Buffer.from(sealed.ct, "base64");
    ct[0] = (ct[0] ?? 0) ^ 1;
    const error = await openSecret(
      keys,
      { ...context, purpose: "client-secret" },
      { ...sealed, ct: ct.toString("base64") },
    ).catch((e: unknown) => e);
    expect(isServiceError(error, "internal_error")).toBe(true);
  });

  it("caches client-secret data keys, never token data keys", async () => {
    const keys = memoryDataKeys();
    let now = 0;
    const cached = cachingDataKeys(keys, { ttlMs: 1000, maxEntries: 10, now: () => now });
    const secretContext = { ...context, purpose: "client-secret" as const };
    const secret = await sealSecret(cached, secretContext, "s3cret");
    const { access } = await sealFields(cached, context, { access: "at" });
    for (let i = 0; i < 3; i++) {
      expect(await openSecret(cached, secretContext, secret)).toBe("s3cret");
      expect(await openField(cached, context, "access", access as NonNullable<typeof access>)).toBe("at");
    }
    expect(keys.decrypts).toBe(4);
    now = 2000;
    expect(await openSecret(cached, secretContext, secret)).toBe("s3cret");
    expect(keys.decrypts).toBe(5);
  });
});
