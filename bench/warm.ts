/**
 * Warm latency and AWS calls per connect, against the local services (dynalite, the local KMS,
 * oidc-provider) through the real handlers behind the local API, as the integration tests run them.
 * Only our own request is timed; the login at the provider that produces a code is not.
 */
import { type Harness, loginAtProvider, popupCode } from "@connector-oauth/test-kit";
import { countCallsDuring, type Tally } from "./call-counter.ts";
import { type FloodResult, measureFlood } from "./flood.ts";
import { CONNECTOR, LEGACY_CONNECTOR } from "./functions.ts";

export interface WarmResult {
  /** Milliseconds per request, in order, by endpoint. */
  latency: { authorize: number[]; callback: number[]; getTokenFromCode: number[] };
  /** AWS calls of each timed connect (authorize + callback). */
  callsPerConnect: Tally[];
  /** AWS calls of the process's first connect (empty caches). */
  callsFirstConnect: Tally;
  /** Forged-state callbacks (bench/flood.ts), in the same harness. */
  flood: FloodResult;
}

async function timed(
  request: () => Promise<Response>,
): Promise<{ ms: number; response: Response; text: string }> {
  const start = performance.now();
  const response = await request();
  const text = await response.text();
  return { ms: performance.now() - start, response, text };
}

function expectStatus(what: string, response: Response, status: number, text: string) {
  if (response.status !== status) throw new Error(`${what}: HTTP ${response.status} ${text.slice(0, 200)}`);
}

/** One full connect; returns the authorize and callback times. */
async function connect(h: Harness, token: string) {
  const authorize = await timed(() =>
    fetch(`${h.api.url}/connectors/${CONNECTOR}/oauth/authorize`, {
      headers: { authorization: `Bearer ${token}` },
    }),
  );
  expectStatus("authorize", authorize.response, 200, authorize.text);
  const { authorizationUrl } = JSON.parse(authorize.text) as { authorizationUrl: string };
  const callbackUrl = await loginAtProvider(authorizationUrl, "alice", h.callbackUrl);
  const callback = await timed(() => fetch(callbackUrl, { redirect: "manual" }));
  const location = callback.response.headers.get("location") ?? "";
  if (location.includes("oauth_error")) throw new Error(`callback failed: ${location}`);
  expectStatus("callback", callback.response, 302, callback.text);
  return { authorizeMs: authorize.ms, callbackMs: callback.ms };
}

async function legacyExchange(h: Harness, token: string) {
  const body = JSON.stringify({ code: await popupCode(h), connectorId: LEGACY_CONNECTOR });
  const exchange = await timed(() =>
    fetch(`${h.api.url}/connectors/getTokenFromCode`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
      body,
    }),
  );
  expectStatus("getTokenFromCode", exchange.response, 200, exchange.text);
  return exchange.ms;
}

/** `warmUp` untimed rounds, then `requests` timed ones per endpoint, in the harness of
 * bench/functions.ts (its connectors defined). */
export async function measureWarm(h: Harness, requests: number, warmUp: number): Promise<WarmResult> {
  h.logs.length = 0;
  const token = await h.token({ sub: "alice", orgId: "acme", role: "admin", email: "alice@example.com" });
  const { calls: callsFirstConnect } = await countCallsDuring(() => connect(h, token));
  for (let i = 0; i < warmUp; i++) {
    await connect(h, token);
    await legacyExchange(h, token);
  }
  const latency = { authorize: [], callback: [], getTokenFromCode: [] };
  const flood = await measureFlood(h, CONNECTOR, requests, warmUp);
  const result: WarmResult = { latency, callsPerConnect: [], callsFirstConnect, flood };
  for (let i = 0; i < requests; i++) {
    const { value: times, calls } = await countCallsDuring(() => connect(h, token));
    result.callsPerConnect.push(calls);
    result.latency.authorize.push(times.authorizeMs);
    result.latency.callback.push(times.callbackMs);
  }
  for (let i = 0; i < requests; i++) result.latency.getTokenFromCode.push(await legacyExchange(h, token));
  return result;
}
