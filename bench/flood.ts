/**
 * Flooding the unauthenticated callback: what one junk callback (a well-formed state with a wrong
 * MAC) costs, against the local services through the real callback handler behind the local API.
 * - latency of a forged-state callback (HTTP round trip, 400 answer) and of the one KMS VerifyMac it
 *   makes, measured alone against the local KMS;
 * - AWS calls per forged callback (bench/call-counter.ts): the state is refused before any DynamoDB
 *   read or provider call (SPEC section 3), so one KMS VerifyMac is all it may cost;
 * - the price of a million of them, from AWS's published list prices (us-east-1, no free tier):
 *   KMS $0.03 per 10,000 requests (https://aws.amazon.com/kms/pricing/), API Gateway HTTP API $1.00
 *   per million requests (https://aws.amazon.com/api-gateway/pricing/), Lambda arm64 $0.20 per million
 *   requests and $0.0000133334 per GB-second (https://aws.amazon.com/lambda/pricing/), 512 MB.
 * The durations are local (loopback KMS): they bound the Lambda time of a junk callback from below
 * only; AWS KMS adds its own network round trip (a few milliseconds in region).
 */
import { kmsStateMac } from "@connector-oauth/aws";
import type { Harness } from "@connector-oauth/test-kit";
import { countCallsDuring, type Tally } from "./call-counter.ts";

export interface FloodResult {
  /** Milliseconds per forged-state callback, HTTP round trip. */
  callbackMs: number[];
  /** Milliseconds per VerifyMac of a wrong MAC, straight to the local KMS. */
  verifyMacMs: number[];
  /** AWS calls of each forged callback. */
  calls: Tally[];
}

export const PRICES = {
  kmsRequest: 0.03 / 10_000,
  apiRequest: 1.0 / 1_000_000,
  lambdaRequest: 0.2 / 1_000_000,
  lambdaGbSecond: 0.0000133334,
  memoryGb: 0.5,
};

/** A state with the right structure and a wrong MAC: its last characters changed. */
function forge(state: string): string {
  const last = state.slice(-4);
  return `${state.slice(0, -4)}${last === "AAAA" ? "BBBB" : "AAAA"}`;
}

async function forgedState(h: Harness, connectorId: string): Promise<string> {
  const token = await h.token({ sub: "alice", orgId: "acme", role: "admin" });
  const response = await fetch(`${h.api.url}/connectors/${connectorId}/oauth/authorize`, {
    headers: { authorization: `Bearer ${token}` },
  });
  const { state } = (await response.json()) as { state: string };
  return forge(state);
}

/**
 * Runs in the harness of bench/warm.ts (the handler modules read their settings once, at import, so
 * one harness per process); `connectorId` is a connector defined there that alice may connect.
 */
export async function measureFlood(
  h: Harness,
  connectorId: string,
  requests: number,
  warmUp: number,
): Promise<FloodResult> {
  const url = `${h.callbackUrl}?code=junk&state=${encodeURIComponent(await forgedState(h, connectorId))}`;
  const junk = async () => {
    const start = performance.now();
    const response = await fetch(url, { redirect: "manual" });
    await response.text();
    if (response.status !== 400) throw new Error(`forged callback: HTTP ${response.status}`);
    return performance.now() - start;
  };
  const mac = kmsStateMac(h.services.kms, h.services.stateKeyId);
  const message = new TextEncoder().encode("v1.forged-state-payload");
  const wrong = new Uint8Array(32);
  const verify = async () => {
    const start = performance.now();
    if (await mac.verify(message, wrong)) throw new Error("a zero MAC verified");
    return performance.now() - start;
  };
  for (let i = 0; i < warmUp; i++) {
    await junk();
    await verify();
  }
  const result: FloodResult = { callbackMs: [], verifyMacMs: [], calls: [] };
  for (let i = 0; i < requests; i++) {
    const { value, calls } = await countCallsDuring(junk);
    result.callbackMs.push(value);
    result.calls.push(calls);
  }
  for (let i = 0; i < requests; i++) result.verifyMacMs.push(await verify());
  return result;
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

/** US dollars per forged callback: its KMS calls, the API request, the Lambda request and time. */
export function costPerForgedCallback(kmsCalls: number, billedMs: number): number {
  const compute = PRICES.memoryGb * (Math.max(1, Math.ceil(billedMs)) / 1000) * PRICES.lambdaGbSecond;
  return kmsCalls * PRICES.kmsRequest + PRICES.apiRequest + PRICES.lambdaRequest + compute;
}

export function floodSection(result: FloodResult, throttle: { ratePerSecond: number }): string[] {
  const operations = [...new Set(result.calls.flatMap((tally) => [...tally.keys()]))].sort();
  const perCall = operations.map((op) => {
    const counts = result.calls.map((tally) => tally.get(op) ?? 0);
    const [low, high] = [Math.min(...counts), Math.max(...counts)];
    return `${op} ${low === high ? low : `${low}-${high}`}`;
  });
  const kmsCalls = Math.max(
    ...result.calls.map((tally) => [...tally].reduce((n, [op, c]) => (op.startsWith("KMS ") ? n + c : n), 0)),
  );
  const callbackMedian = median(result.callbackMs);
  const perJunk = costPerForgedCallback(kmsCalls, callbackMedian);
  const perDay = perJunk * throttle.ratePerSecond * 86_400;
  const usd = (n: number, digits: number) => `$${n.toFixed(digits)}`;
  return [
    "| Measure | Value |",
    "|---|--:|",
    `| Forged-state callback, median (ms, ${result.callbackMs.length} sequential, HTTP round trip, 400) | ${callbackMedian.toFixed(1)} |`,
    `| KMS VerifyMac of a wrong MAC alone, median (ms, local KMS) | ${median(result.verifyMacMs).toFixed(1)} |`,
    `| AWS calls per forged callback | ${perCall.join(", ")} |`,
    `| KMS cost per million forged callbacks ($0.03 per 10,000 requests) | ${usd(kmsCalls * PRICES.kmsRequest * 1e6, 2)} |`,
    `| All-in cost per million (KMS + API Gateway + Lambda request and ${Math.max(1, Math.ceil(callbackMedian))} ms at 512 MB) | ${usd(perJunk * 1e6, 2)} |`,
    `| Worst case per day at the callback route's throttle (${throttle.ratePerSecond}/s sustained) | ${usd(perDay, 2)} |`,
  ];
}
