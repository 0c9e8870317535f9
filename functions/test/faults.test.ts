/**
 * Fault injection (issue 10, SPEC section 3): the real handlers over HTTP with DynamoDB (dynalite),
 * the local KMS and the provider's token endpoint (oidc-provider) each behind a fault proxy. A
 * representative subset of the fault matrix (`npm run faults` runs all of it, docs/reliability.md),
 * then the cases the matrix cannot reach: a holder that died, and the pending-flow limit.
 */

import { authorize, consent, legacyConnector, popupCode, tokenRequests } from "@connector-oauth/test-kit";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { type HandlerAccess, handlers } from "../src/routes.ts";
import {
  callbackAnswer,
  connects,
  deviations,
  type FaultEnv,
  faultConnector,
  nonceOf,
  runCase,
  STEPS,
  startFaultEnv,
} from "./support/fault-matrix.ts";
import type { FaultKind } from "./support/fault-proxy.ts";

let env: FaultEnv;

beforeAll(async () => {
  env = await startFaultEnv();
});
afterAll(() => env?.close());
afterEach(() => {
  vi.useRealTimers();
  env.proxies.dynamodb.disarm();
  env.proxies.kms.disarm();
  env.proxies.provider.disarm();
});

const step = (name: string) => {
  const found = STEPS.find((s) => s.name.endsWith(name));
  if (!found) throw new Error(`no step ${name}`);
  return found;
};

// Each row: the defect of issue 10 it reproduces, the step, the fault.
const SUBSET: [string, string, FaultKind][] = [
  ["defect 1: the flow write's reply is lost", "authorize: flow PutItem", "applied"],
  ["defect 1: the slot write's reply is lost", "pending-slot write", "applied"],
  ["defect 1: the consume's reply is lost", "consume UpdateItem", "applied"],
  ["defect 1: the tokens write's reply is lost", "tokens UpdateItem", "applied"],
  ["defect 2: the token endpoint hangs", "code exchange (token endpoint)", "hang"],
  ["defect 2: a KMS call hangs before the exchange", "KMS VerifyMac", "hang"],
  ["defect 4: the outcome write fails after the tokens were stored", "outcome UpdateItem", "error"],
  [
    "defect 5: GenerateDataKey fails after the exchange (every attempt)",
    "KMS GenerateDataKey (tokens)",
    "error",
  ],
  ["defect 5: the tokens write is throttled after the exchange", "tokens UpdateItem", "throttle"],
  ["defect 5: GenerateDataKey is reset after the exchange", "KMS GenerateDataKey (tokens)", "reset"],
  ["defect 6: Decrypt of the client secret fails", "KMS Decrypt (client secret)", "error"],
  ["defect 6: the consume is throttled", "consume UpdateItem", "throttle"],
  ["defect 6: the flow read fails", "callback: flow GetItem", "error"],
  ["the provider redeems the code and the reply is lost", "code exchange (token endpoint)", "applied"],
  ["the exchange is slow but within its deadline", "code exchange (token endpoint)", "slow"],
];

describe("fault matrix (subset)", () => {
  it.each(SUBSET)("%s (%s / %s)", async (_defect, name, fault) => {
    const result = await runCase(env, step(name), fault);
    expect(deviations(step(name), result)).toEqual([]);
    expect(result.stuck).toBe(false);
  });

  it("answers a hung token endpoint within the exchange deadline, not after minutes", async () => {
    const result = await runCase(env, step("code exchange (token endpoint)"), "hang");
    expect(result.answer).toBe("token_exchange_failed");
    expect(result.ms).toBeGreaterThanOrEqual(1_400);
    expect(result.ms).toBeLessThan(4_000);
  });
});

describe("a holder that died while exchanging", () => {
  async function pendingFlow() {
    const connectorId = await faultConnector(env);
    const started = await authorize(env.h, connectorId, env.adminToken);
    const nonce = nonceOf(started.body.state as string);
    const callbackUrl = await consent(env.h, started.body.authorizationUrl as string);
    return { connectorId, nonce, callbackUrl };
  }

  it("is settled after its lease as token_exchange_failed, without a second exchange", async () => {
    const { connectorId, nonce, callbackUrl } = await pendingFlow();
    // What a callback that crashed after consuming leaves behind (its Lambda timed out).
    await env.h.flows.consume(nonce, "dead-holder", Date.now(), 30_000);
    const before = tokenRequests(env.h).length;
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(Date.now() + 31_000);
    expect(await callbackAnswer(callbackUrl)).toBe("token_exchange_failed");
    expect(await env.h.flows.get(nonce)).toMatchObject({ status: "failed", error: "token_exchange_failed" });
    expect(tokenRequests(env.h).length).toBe(before);
    expect(await callbackAnswer(callbackUrl)).toBe("token_exchange_failed");
    vi.useRealTimers();
    expect(await connects(env, connectorId)).toBe(true);
  });

  it("reports the stored tokens of a holder that died after storing them, even once the state expired", async () => {
    const { connectorId, nonce, callbackUrl } = await pendingFlow();
    env.proxies.dynamodb.arm({ kind: "error", match: step("outcome UpdateItem").match });
    expect(await callbackAnswer(callbackUrl)).toBe("success");
    env.proxies.dynamodb.disarm();
    expect((await env.h.flows.get(nonce))?.status).toBe("exchanging");
    expect((await env.h.connectors.get("acme", connectorId))?.connectFlow).toBe(nonce);
    const before = tokenRequests(env.h).length;
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(Date.now() + 11 * 60_000);
    expect(await callbackAnswer(callbackUrl)).toBe("success");
    expect((await env.h.flows.get(nonce))?.status).toBe("succeeded");
    expect(tokenRequests(env.h).length).toBe(before);
  });
});

describe("pending-flow limit", () => {
  it("answers the 21st authorize of one user with 429 too_many_pending_flows; a finished flow frees a slot", async () => {
    const connectorId = await faultConnector(env);
    const bob = await env.h.token({ sub: "bob", orgId: "acme", role: "admin" });
    const started: Record<string, unknown>[] = [];
    for (let i = 0; i < 20; i++) {
      const response = await authorize(env.h, connectorId, bob);
      expect(response.status).toBe(200);
      started.push(response.body);
    }
    const refused = await authorize(env.h, connectorId, bob);
    expect(refused.status).toBe(429);
    expect((refused.body.error as { code: string }).code).toBe("too_many_pending_flows");
    // Other users keep their own budget.
    expect((await authorize(env.h, connectorId, env.adminToken)).status).toBe(200);
    const first = started[0] as { authorizationUrl: string };
    expect(await callbackAnswer(await consent(env.h, first.authorizationUrl, "bob"))).toBe("success");
    expect((await authorize(env.h, connectorId, bob)).status).toBe(200);
    // Pending slots expire with their state.
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(Date.now() + 10 * 60_000 + 1_000);
    const bobLater = await env.h.token({ sub: "bob", orgId: "acme", role: "admin" });
    for (let i = 0; i < 20; i++) expect((await authorize(env.h, connectorId, bobLater)).status).toBe(200);
    expect((await authorize(env.h, connectorId, bobLater)).status).toBe(429);
  });
});

describe("legacy code exchange", () => {
  it("answers 502 provider_error within the exchange deadline when Google's token endpoint hangs", async () => {
    await env.h.define([legacyConnector()]);
    const code = await popupCode(env.h);
    env.proxies.provider.arm({ kind: "hang", match: (r) => r.path.endsWith("/token") });
    const t0 = Date.now();
    const response = await fetch(`${env.h.api.url}/connectors/getTokenFromCode`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${env.adminToken}` },
      body: JSON.stringify({ code }),
    });
    const elapsed = Date.now() - t0;
    expect(response.status).toBe(502);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe("provider_error");
    expect(elapsed).toBeGreaterThanOrEqual(1_400);
    expect(elapsed).toBeLessThan(4_000);
  });
});

describe("legacy code exchange after the code is spent", () => {
  it.each([
    ["GenerateDataKey is throttled on every SDK attempt", "kms", "GenerateDataKey"],
    ["the tokens write is throttled on every SDK attempt", "dynamodb", "UpdateItem"],
  ] as const)("stores the tokens when %s (retried within the budget)", async (_, service, operation) => {
    await env.h.define([legacyConnector()]);
    const code = await popupCode(env.h);
    // Two throttles: both of the SDK's attempts (AWS_MAX_ATTEMPTS=2) fail, then the service recovers.
    const proxy = env.proxies[service];
    proxy.arm({ kind: "throttle", match: (r) => r.operation === operation });
    const calls = () => proxy.log.filter((r) => r.operation === operation).length;
    const callsBefore = calls();
    const before = tokenRequests(env.h).length;
    const response = await fetch(`${env.h.api.url}/connectors/getTokenFromCode`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${env.adminToken}` },
      body: JSON.stringify({ code }),
    });
    expect(response.status).toBe(200);
    // Both throttled attempts, then the retry's, which succeeded.
    expect(proxy.matched()).toBe(2);
    expect(calls() - callsBefore).toBe(3);
    expect(tokenRequests(env.h).length).toBe(before + 1);
    const stored = await env.h.connectors.get("acme", "googleWorkspace");
    expect(stored?.status).toBe("authenticated");
    expect(stored?.tokens).toBeDefined();
  });
});

describe("IAM of the route functions", () => {
  /** The AWS actions the handlers called while `work` ran, as IAM names, seen on the wire. */
  async function actionsDuring(work: () => Promise<unknown>): Promise<string[]> {
    const { dynamodb, kms } = env.proxies;
    const [d, k] = [dynamodb.log.length, kms.log.length];
    await work();
    const ops = [
      ...dynamodb.log.slice(d).map((r) => `dynamodb:${r.operation}`),
      ...kms.log.slice(k).map((r) => `kms:${r.operation}`),
    ];
    return [...new Set(ops)].sort();
  }
  const granted = (access: HandlerAccess): string[] =>
    [
      ...access.table.flatMap((grant) => grant.actions),
      ...(access.stateKey ?? []),
      ...(access.dataKey ?? []).flatMap((grant) => grant.actions),
    ].sort();

  it("grants each function every action its handler performs (functions/src/routes.ts (the route table))", async () => {
    const connectorId = await faultConnector(env);
    const carol = await env.h.token({ sub: "carol", orgId: "acme", role: "admin" });
    // A user's first authorize creates the slots item, the next ones update it.
    let started: Awaited<ReturnType<typeof authorize>> | undefined;
    const authorizeActions = await actionsDuring(async () => {
      await authorize(env.h, connectorId, carol);
      started = await authorize(env.h, connectorId, carol);
    });
    expect(authorizeActions.filter((a) => !granted(handlers.Authorize).includes(a))).toEqual([]);
    expect(authorizeActions).toEqual(expect.arrayContaining(["dynamodb:PutItem", "dynamodb:UpdateItem"]));
    const callbackUrl = await consent(env.h, started?.body.authorizationUrl as string, "carol");
    const callbackActions = await actionsDuring(async () => {
      expect(await callbackAnswer(callbackUrl)).toBe("success");
      expect(await callbackAnswer(callbackUrl)).toBe("success");
    });
    expect(callbackActions.filter((a) => !granted(handlers.Callback).includes(a))).toEqual([]);
  });
});
