/**
 * The fault matrix: every step of a connect that calls DynamoDB, KMS or the provider's token
 * endpoint, under each fault of the fault proxy, run with the real handlers over HTTP (harness.ts)
 * and a fault proxy in front of each service. Each case records what the user was answered, what
 * the table holds afterwards, how many token requests reached the provider, and how the user gets
 * connected after it (the same callback again, a new authorize, or a new connect).
 * Used by functions/test/faults.test.ts (a subset) and `npm run faults` (all of it).
 *
 * Timeouts are scaled down (AWS attempt 400 ms x 2 attempts, exchange 1.5 s, callback budget 5 s
 * instead of 2 s x 2, 8 s and 13 s) so that a hang costs a second, not ten; the logic is the same.
 */
import type { FlowStatus } from "@connector-oauth/core";
import {
  authorize,
  consent,
  demoConnector,
  googleWorkspaceStandIn,
  type Harness,
  startHarness,
  tokenRequests,
} from "@connector-oauth/test-kit";
import {
  type FaultKind,
  type FaultProxy,
  type SeenRequest,
  type Service,
  startFaultProxy,
} from "./fault-proxy.ts";

export const SCALED_TIMEOUTS = {
  AWS_ATTEMPT_TIMEOUT_MS: "400",
  AWS_MAX_ATTEMPTS: "2",
  TOKEN_EXCHANGE_TIMEOUT_MS: "1500",
  CALLBACK_BUDGET_MS: "5000",
};

type Phase = "authorize" | "before" | "exchange" | "after" | "finish";

export interface Step {
  name: string;
  phase: Phase;
  service: Service;
  match: (request: SeenRequest) => boolean;
}

type Attr = Record<string, { S?: string } | undefined>;
const keyOf = (r: SeenRequest, field = "Key") => (r.body[field] ?? {}) as Attr;
const isFlow = (attr: Attr) => attr.pk?.S?.startsWith("FLOW#") === true;
const update = (r: SeenRequest) => String(r.body.UpdateExpression ?? "");

export const STEPS: Step[] = [
  {
    name: "authorize: KMS GenerateMac",
    phase: "authorize",
    service: "kms",
    match: (r) => r.operation === "GenerateMac",
  },
  {
    // The first authorize of a user creates its slots item (PutItem), later ones add to it (UpdateItem).
    name: "authorize: pending-slot write",
    phase: "authorize",
    service: "dynamodb",
    match: (r) =>
      (r.operation === "PutItem" && keyOf(r, "Item").sk?.S?.startsWith("PENDING#") === true) ||
      (r.operation === "UpdateItem" && keyOf(r).sk?.S?.startsWith("PENDING#") === true),
  },
  {
    name: "authorize: flow PutItem",
    phase: "authorize",
    service: "dynamodb",
    match: (r) => r.operation === "PutItem" && isFlow(keyOf(r, "Item")),
  },
  {
    name: "callback: KMS VerifyMac",
    phase: "before",
    service: "kms",
    match: (r) => r.operation === "VerifyMac",
  },
  {
    name: "callback: flow GetItem",
    phase: "before",
    service: "dynamodb",
    match: (r) => r.operation === "GetItem" && isFlow(keyOf(r)),
  },
  {
    name: "callback: KMS Decrypt (client secret)",
    phase: "before",
    service: "kms",
    match: (r) => r.operation === "Decrypt",
  },
  {
    name: "callback: consume UpdateItem",
    phase: "before",
    service: "dynamodb",
    match: (r) => r.operation === "UpdateItem" && update(r).startsWith("SET #status = :exchanging"),
  },
  {
    name: "callback: code exchange (token endpoint)",
    phase: "exchange",
    service: "provider",
    match: (r) => r.path.endsWith("/token") && r.body.grant_type === "authorization_code",
  },
  {
    name: "callback: KMS GenerateDataKey (tokens)",
    phase: "after",
    service: "kms",
    match: (r) => r.operation === "GenerateDataKey",
  },
  {
    name: "callback: tokens UpdateItem",
    phase: "after",
    service: "dynamodb",
    match: (r) => r.operation === "UpdateItem" && keyOf(r).sk?.S?.startsWith("CONNECTOR#") === true,
  },
  {
    name: "callback: outcome UpdateItem",
    phase: "finish",
    service: "dynamodb",
    match: (r) => r.operation === "UpdateItem" && update(r).includes("finishId"),
  },
];

export type Recovery = "not needed" | "same callback" | "retry authorize" | "new connect" | "none";

export interface CaseResult {
  step: string;
  fault: FaultKind;
  /** What the user got: "success", an oauth_error code, or "<status> <code>". */
  answer: string;
  /** The flow's status afterwards ("none" when no flow was written). */
  flow: FlowStatus | "none";
  /** The connector holds tokens from this flow. */
  stored: boolean;
  tokenRequests: number;
  recovery: Recovery;
  /** Still `exchanging` after the recovery attempt. */
  stuck: boolean;
  ms: number;
}

export type Expected = Pick<CaseResult, "answer" | "flow" | "stored" | "tokenRequests" | "recovery">;

const OK: Expected = {
  answer: "success",
  flow: "succeeded",
  stored: true,
  tokenRequests: 1,
  recovery: "not needed",
};
const UNAVAILABLE = "503 dependency_unavailable";

/** What SPEC section 3 asks of each case. */
export function expected(step: Step, fault: FaultKind): Expected {
  // Transient faults the SDK's own retry (or the read-back of a conditional write) absorbs.
  const absorbed = fault === "reset" || fault === "applied" || fault === "slow";
  switch (step.phase) {
    case "authorize":
      return absorbed
        ? { answer: "200", flow: "pending", stored: false, tokenRequests: 0, recovery: "not needed" }
        : { answer: UNAVAILABLE, flow: "none", stored: false, tokenRequests: 0, recovery: "retry authorize" };
    case "before":
      return absorbed
        ? OK
        : {
            answer: UNAVAILABLE,
            flow: "pending",
            stored: false,
            tokenRequests: 0,
            recovery: "same callback",
          };
    case "exchange":
      if (fault === "slow") return OK;
      // The code cannot be sent twice: a failed exchange is final, and only "applied" reached the provider.
      return {
        answer: "token_exchange_failed",
        flow: "failed",
        stored: false,
        tokenRequests: fault === "applied" ? 1 : 0,
        recovery: "new connect",
      };
    case "after":
      // Issued tokens are sealed and stored again within the budget; only a step that fails on
      // every attempt until the deadline drops them.
      return fault === "error" || fault === "hang"
        ? { answer: "server_error", flow: "failed", stored: false, tokenRequests: 1, recovery: "new connect" }
        : OK;
    case "finish":
      // The tokens are stored: the answer is success; the flow stays `exchanging` until any later
      // callback (or one after the lease) reads the stored tokens and settles it.
      return fault === "error" || fault === "hang"
        ? { ...OK, flow: "exchanging", recovery: "not needed" }
        : OK;
  }
}

export interface FaultEnv {
  h: Harness;
  proxies: Record<Service, FaultProxy>;
  adminToken: string;
  close(): Promise<void>;
}

/** The harness with the handlers' DynamoDB, KMS and token endpoints behind fault proxies (the
 * google-workspace stand-in's too, for the legacy exchange). */
export async function startFaultEnv(env: Record<string, string> = {}): Promise<FaultEnv> {
  const [dynamodb, kms, provider] = await Promise.all([
    startFaultProxy("dynamodb"),
    startFaultProxy("kms"),
    startFaultProxy("provider"),
  ]);
  const h = await startHarness({
    overrides: (p) => ({
      "google-workspace": {
        ...googleWorkspaceStandIn(p)["google-workspace"],
        tokenUrl: `${provider.url}/token`,
      },
    }),
    env: {
      AWS_ENDPOINT_URL_DYNAMODB: dynamodb.url,
      AWS_ENDPOINT_URL_KMS: kms.url,
      ...SCALED_TIMEOUTS,
      POWERTOOLS_LOG_LEVEL: "ERROR",
      ...env,
    },
  });
  dynamodb.upstream = h.services.dynamodbUrl;
  kms.upstream = h.services.kmsUrl;
  provider.upstream = h.provider.issuer;
  const adminToken = await h.token({
    sub: "alice",
    orgId: "acme",
    role: "admin",
    email: "alice@example.com",
  });
  const proxies = { dynamodb, kms, provider };
  return {
    h,
    proxies,
    adminToken,
    async close() {
      await h.close();
      await Promise.all([dynamodb.close(), kms.close(), provider.close()]);
    },
  };
}

let counter = 0;

/** A new connector whose token endpoint is reached through the provider proxy. */
export async function faultConnector(env: FaultEnv): Promise<string> {
  const connectorId = `faults-${++counter}`;
  const { h } = env;
  const endpoints = {
    authorizationUrl: h.provider.authorizationUrl,
    tokenUrl: `${env.proxies.provider.url}/token`,
    issuer: h.provider.issuer,
  };
  await h.define([demoConnector(h.provider, { connectorId, orgId: "acme", endpoints })]);
  return connectorId;
}

export const nonceOf = (state: string) =>
  (JSON.parse(Buffer.from(state.split(".")[1] ?? "", "base64url").toString()) as { n: string }).n;

/** Calls the callback as PipesHub's frontend does (JSON); "success", the oauth_error, or "<status> <code>". */
export async function callbackAnswer(url: string): Promise<string> {
  const response = await fetch(url, { headers: { accept: "application/json" } });
  const body = (await response.json()) as { success: boolean; error?: string | { code: string } };
  if (response.status !== 200) return `${response.status} ${(body.error as { code: string }).code}`;
  return body.success ? "success" : String(body.error);
}

/** Runs one request to a route function as `caller` (test/infra/iam.test.ts records its AWS calls
 * under that name); by default it just runs it. */
export type AsCaller = <T>(caller: "Authorize" | "Callback", work: () => Promise<T>) => Promise<T>;
const asItself: AsCaller = (_, work) => work();

/** Authorize, consent and callback with no fault armed; true when it ends connected. */
export async function connects(
  env: FaultEnv,
  connectorId: string,
  as: AsCaller = asItself,
): Promise<boolean> {
  const started = await as("Authorize", () => authorize(env.h, connectorId, env.adminToken));
  if (started.status !== 200) return false;
  const callbackUrl = await consent(env.h, started.body.authorizationUrl as string);
  return (await as("Callback", () => callbackAnswer(callbackUrl))) === "success";
}

function slowDelay(step: Step): number {
  const scale =
    step.service === "provider"
      ? SCALED_TIMEOUTS.TOKEN_EXCHANGE_TIMEOUT_MS
      : SCALED_TIMEOUTS.AWS_ATTEMPT_TIMEOUT_MS;
  return Number(scale) / 2;
}

async function tableState(env: FaultEnv, connectorId: string, nonce: string | undefined) {
  const flow = nonce ? await env.h.flows.get(nonce) : undefined;
  const connector = await env.h.connectors.get("acme", connectorId);
  return {
    flow: (flow?.status ?? "none") as CaseResult["flow"],
    stored: nonce !== undefined && connector?.connectFlow === nonce && connector.status === "authenticated",
  };
}

/** Runs one case on a fresh connector; `as` names the function each request goes to. */
export async function runCase(
  env: FaultEnv,
  step: Step,
  fault: FaultKind,
  as: AsCaller = asItself,
): Promise<CaseResult> {
  const { h } = env;
  const proxy = env.proxies[step.service];
  const connectorId = await faultConnector(env);
  const t0 = Date.now();
  const arm = () => proxy.arm({ kind: fault, match: step.match, delayMs: slowDelay(step) });
  const base = { step: step.name, fault };
  if (step.phase === "authorize") {
    arm();
    const started = await as("Authorize", () => authorize(h, connectorId, env.adminToken)).finally(() =>
      proxy.disarm(),
    );
    const ms = Date.now() - t0;
    const ok = started.status === 200;
    const answer = ok ? "200" : `${started.status} ${(started.body.error as { code: string }).code}`;
    const nonce = ok ? nonceOf(started.body.state as string) : undefined;
    const state = await tableState(env, connectorId, nonce);
    const callbackUrl = ok ? await consent(h, started.body.authorizationUrl as string) : undefined;
    const finished = callbackUrl
      ? (await as("Callback", () => callbackAnswer(callbackUrl))) === "success"
      : await connects(env, connectorId, as);
    const recovery: Recovery = !finished ? "none" : ok ? "not needed" : "retry authorize";
    return { ...base, answer, ...state, tokenRequests: 0, recovery, stuck: false, ms };
  }
  const started = await as("Authorize", () => authorize(h, connectorId, env.adminToken));
  if (started.status !== 200) throw new Error(`authorize failed before the fault: ${started.status}`);
  const nonce = nonceOf(started.body.state as string);
  const callbackUrl = await consent(h, started.body.authorizationUrl as string);
  const before = tokenRequests(h).length;
  arm();
  const answer = await as("Callback", () => callbackAnswer(callbackUrl)).finally(() => proxy.disarm());
  const ms = Date.now() - t0;
  const seen = tokenRequests(h).length - before;
  const state = await tableState(env, connectorId, nonce);
  let recovery: Recovery = "not needed";
  if (answer !== "success") {
    if ((await as("Callback", () => callbackAnswer(callbackUrl))) === "success") recovery = "same callback";
    else recovery = (await connects(env, connectorId, as)) ? "new connect" : "none";
  } else {
    // A repeated callback must report the same success (and settles a flow left `exchanging`).
    if ((await as("Callback", () => callbackAnswer(callbackUrl))) !== "success") recovery = "none";
  }
  const stuck = (await h.flows.get(nonce))?.status === "exchanging";
  return { ...base, answer, ...state, tokenRequests: seen, recovery, stuck, ms };
}

/** The fields of a result that must equal the expectation. */
export function deviations(step: Step, result: CaseResult): string[] {
  const want = expected(step, result.fault);
  const out: string[] = [];
  for (const key of Object.keys(want) as (keyof Expected)[]) {
    if (want[key] !== result[key]) out.push(`${key}: expected ${want[key]}, got ${result[key]}`);
  }
  if (result.stuck) out.push("flow stuck in exchanging");
  return out;
}

/** The figures SPEC section 3 sets targets for. */
export function summarize(results: CaseResult[]) {
  const phaseOf = (name: string) => STEPS.find((s) => s.name === name)?.phase;
  const before = results.filter((r) => phaseOf(r.step) === "before" && r.answer !== "success");
  const after = results.filter(
    (r) => phaseOf(r.step) === "after" && r.fault !== "error" && r.fault !== "hang",
  );
  return {
    cases: results.length,
    stuckFlows: results.filter((r) => r.stuck).length,
    failedAnswersForStoredConnects: results.filter((r) => r.stored && r.answer !== "success").length,
    preRedemptionFailures: before.length,
    preRedemptionRecoveredBySameCallback: before.filter((r) => r.recovery === "same callback").length,
    tokensDroppedWhereARetryCouldStore: after.filter((r) => !r.stored).length,
    unrecovered: results.filter((r) => r.recovery === "none").length,
  };
}

export function markdownTable(results: CaseResult[]): string {
  const lines = [
    "| step | fault | answer | flow left | tokens stored | token requests | recovered by | ms |",
    "| --- | --- | --- | --- | --- | --- | --- | --- |",
  ];
  for (const r of results) {
    lines.push(
      `| ${r.step} | ${r.fault} | ${r.answer} | ${r.stuck ? "exchanging (stuck)" : r.flow} | ${r.stored ? "yes" : "no"} | ${r.tokenRequests} | ${r.recovery} | ${r.ms} |`,
    );
  }
  return lines.join("\n");
}
