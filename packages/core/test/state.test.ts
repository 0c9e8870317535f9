import { describe, expect, it } from "vitest";
import { fromBase64Url } from "../src/encoding.ts";
import { isServiceError } from "../src/errors.ts";
import { issueState, STATE_MAX_LENGTH, verifyState } from "../src/state.ts";
import { memoryStateMac } from "./memory-keys.ts";

const claims = {
  connectorId: "drive-acme",
  orgId: "acme",
  userId: "alice",
  provider: "google-drive",
  nonce: "qNbVKoYzPNJxh5YrQnqiPZjvKK-lALY729bN3WAWAlc",
  returnOrigin: "https://app.example.com",
  issuedAt: 1_800_000_000,
  expiresAt: 1_800_000_600,
};

describe("state", () => {
  it("round-trips every bound claim when the MAC verifies", async () => {
    const mac = memoryStateMac();
    const { state } = await issueState(mac, claims);
    expect(state).toMatch(/^v1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/);
    expect(state.length).toBeLessThanOrEqual(STATE_MAX_LENGTH);
    expect((await verifyState(mac, state)).claims).toEqual(claims);
  });

  it("rejects every single-character change with invalid_state", async () => {
    const mac = memoryStateMac();
    const { state } = await issueState(mac, claims);
    for (let i = 0; i < state.length; i++) {
      const changed = state.slice(0, i) + (state[i] === "x" ? "y" : "x") + state.slice(i + 1);
      const error = await verifyState(mac, changed).catch((e: unknown) => e);
      expect(isServiceError(error, "invalid_state")).toBe(true);
    }
  });

  it("rejects another spelling of the same MAC bytes (stray base64url bits)", async () => {
    const mac = memoryStateMac();
    const { state } = await issueState(mac, claims);
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    const last = alphabet.indexOf(state.at(-1) as string);
    // 32 bytes in 43 characters leave the last character's two low bits unused.
    const sameBytes = state.slice(0, -1) + alphabet[last ^ 1];
    expect(Buffer.from(sameBytes.split(".")[2] as string, "base64url")).toEqual(
      Buffer.from(state.split(".")[2] as string, "base64url"),
    );
    await expect(verifyState(mac, sameBytes)).rejects.toMatchObject({ code: "invalid_state" });
  });

  it("rejects malformed states before asking for a MAC", async () => {
    const mac = memoryStateMac();
    for (const bad of [
      "",
      "v1",
      "v2.e30.AAAA",
      "v1.e30",
      "v1.!!.AAAA",
      `v1.${"a".repeat(600)}.x`,
      "v1.e30.AAAA",
    ]) {
      await expect(verifyState(mac, bad)).rejects.toMatchObject({ code: "invalid_state" });
    }
    expect(mac.calls).toBe(0);
  });

  it("rejects a state signed with another key", async () => {
    const { state } = await issueState(memoryStateMac(), claims);
    await expect(verifyState(memoryStateMac(), state)).rejects.toMatchObject({ code: "invalid_state" });
  });

  it("refuses to issue a state longer than 512 characters", async () => {
    await expect(
      issueState(memoryStateMac(), { ...claims, connectorId: "c".repeat(400) }),
    ).rejects.toMatchObject({
      code: "invalid_request",
    });
  });

  it("refuses a nonce shorter than 128 bits", async () => {
    const mac = memoryStateMac();
    const { state } = await issueState(mac, { ...claims, nonce: "c2hvcnQ" });
    expect(fromBase64Url("c2hvcnQ").length).toBeLessThan(16);
    await expect(verifyState(mac, state)).rejects.toMatchObject({ code: "invalid_state" });
  });
});
