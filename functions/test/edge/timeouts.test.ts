import { readFile } from "node:fs/promises";
import { loadSettings } from "@connector-oauth/config";
import { describe, expect, it } from "vitest";
import { connectTiming } from "../../src/composition.ts";
import { awsClientConfig } from "../../src/edge/aws-clients.ts";

const env = {
  TABLE_NAME: "t",
  STATE_KEY_ID: "alias/state",
  DATA_KEY_ID: "alias/data",
  APP_ORIGINS: "https://app.example.com",
  PUBLIC_API_URL: "https://api.example.com",
};

/** The route functions' timeout as the stack renders it (stacks/api.ts). */
async function functionTimeoutMs(): Promise<number> {
  const source = await readFile(new URL("../../../stacks/api.ts", import.meta.url), "utf8");
  const match = /timeout:\s*"(\d+) seconds"/.exec(source);
  if (!match) throw new Error("stacks/api.ts declares no function timeout");
  return Number(match[1]) * 1000;
}

describe("default deadlines", () => {
  it("fit the callback, with the exchange and one AWS call after it, inside the function timeout", async () => {
    const settings = loadSettings(env, ["stateKey", "dataKey", "connect"]);
    const timing = connectTiming(settings.timeouts);
    const timeout = await functionTimeoutMs();
    expect(timing.budgetMs).toBeLessThanOrEqual(timeout - 2_000);
    expect(timing.exchangeMs + timing.awsCallMs).toBeLessThanOrEqual(timing.budgetMs);
    // One AWS call with all its attempts is what the callback keeps back after the exchange.
    const client = awsClientConfig(settings.timeouts);
    expect(client.maxAttempts * client.requestHandler.requestTimeout).toBeLessThan(timing.awsCallMs);
    expect(client.requestHandler.throwOnRequestTimeout).toBe(true);
    // A holder is presumed dead only well after any function running it has timed out.
    expect(timing.leaseMs).toBeGreaterThanOrEqual(2 * timeout);
  });
});
