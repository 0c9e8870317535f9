/**
 * Token refresh, against the local services (dynalite, the local KMS, oidc-provider rotating its
 * refresh tokens) through the production adapters and core, as a sync worker runs it:
 * - latency of a refresh (lease, reads, KMS, the provider's token endpoint, the versioned write),
 *   sequential forced refreshes of one connector;
 * - refresh requests reaching the provider per round of `callers` concurrent getAccessToken calls on
 *   a token about to expire, each caller its own token access (own lease owner ids), like processes;
 * - AWS calls per refresh (recorded when bench/call-counter.ts is installed).
 * The connector is connected once through the core connect flow (no HTTP handlers), so this runs in
 * the same process as the other benchmarks.
 */
import {
  dynamoConnectorStore,
  dynamoFlowStore,
  dynamoLeaseStore,
  kmsDataKeys,
  kmsStateMac,
} from "@connector-oauth/aws";
import {
  completeConnect,
  createTokenAccess,
  DEFAULT_CONNECT_TIMING,
  defineConnectors,
  providers,
  startConnect,
  type TokenAccess,
} from "@connector-oauth/core";
import { startDemoProvider } from "@connector-oauth/demo-provider";
import { startLocalServices } from "@connector-oauth/local";
import { loginAtProvider } from "@connector-oauth/test-kit";
import { countCallsDuring, type Tally } from "./call-counter.ts";

export interface RefreshResult {
  /** Milliseconds per sequential forced refresh. */
  latency: number[];
  callers: number;
  /** Refresh requests the provider received in each concurrent round. */
  requestsPerRound: number[];
  /** AWS calls of each timed refresh. */
  callsPerRefresh: Tally[];
}

const CLIENT = { clientId: "bench-client", clientSecret: "bench-client-secret-4c1d" };
/** Registered at the provider, never requested: the login helper stops before following it. */
const REDIRECT_URI = "http://127.0.0.1:9/connectors/oauth/callback";
const ORG = "acme";
const CONNECTOR = "bench-refresh";
const silent = { info() {}, warn() {}, error() {} };
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)] as number;
}

async function setUp() {
  const services = await startLocalServices();
  const provider = await startDemoProvider({ clients: [{ ...CLIENT, redirectUris: [REDIRECT_URI] }] });
  const connectors = dynamoConnectorStore(services.dynamo, services.tableName);
  const dataKeys = kmsDataKeys(services.kms, services.dataKeyId);
  const catalog = { catalog: providers, allowLoopbackHttp: true };
  const endpoints = {
    authorizationUrl: provider.authorizationUrl,
    tokenUrl: provider.tokenUrl,
    issuer: provider.issuer,
  };
  const definition = {
    connectorId: CONNECTOR,
    orgId: ORG,
    provider: "oauth2",
    scope: "team",
    createdBy: "alice",
    ...CLIENT,
    scopes: ["openid", "offline_access"],
    endpoints,
  };
  await defineConnectors({ connectors, dataKeys, catalog }, [definition], "bench", Date.now());
  const connect = {
    connectors,
    dataKeys,
    catalog,
    now: () => Date.now(),
    sleep,
    log: silent,
    timing: DEFAULT_CONNECT_TIMING,
    flows: dynamoFlowStore(services.dynamo, services.tableName),
    stateMac: kmsStateMac(services.kms, services.stateKeyId),
    settings: {
      appOrigins: ["https://app.example.com"],
      redirectUri: REDIRECT_URI,
      successPath: "/",
      errorPath: "/",
    },
  };
  const caller = { userId: "alice", orgId: ORG, isAdmin: true };
  const { authorizationUrl } = await startConnect(connect, caller, CONNECTOR);
  const callback = await loginAtProvider(authorizationUrl, "alice", REDIRECT_URI);
  const outcome = await completeConnect(connect, new URL(callback).searchParams);
  if (!outcome.ok) throw new Error(`bench connect failed: ${outcome.error}`);
  const access = (now: () => number): TokenAccess =>
    createTokenAccess({
      connectors,
      dataKeys,
      catalog,
      now,
      sleep,
      log: silent,
      leases: dynamoLeaseStore(services.dynamo, services.tableName),
    });
  const close = async () => {
    await provider.close();
    await services.close();
  };
  return { connectors, provider, access, close };
}

/** `refreshes` timed sequential refreshes, then `rounds` rounds of `callers` concurrent callers. */
export async function measureRefresh(
  refreshes: number,
  callers: number,
  rounds: number,
): Promise<RefreshResult> {
  const { connectors, provider, access, close } = await setUp();
  const refreshRequests = () => provider.requests.filter((r) => r.grantType === "refresh_token").length;
  try {
    const worker = access(() => Date.now());
    await worker.refresh(ORG, CONNECTOR); // warm-up, not timed
    const result: RefreshResult = { latency: [], callers, requestsPerRound: [], callsPerRefresh: [] };
    for (let i = 0; i < refreshes; i++) {
      const start = performance.now();
      const { calls } = await countCallsDuring(() => worker.refresh(ORG, CONNECTOR));
      result.latency.push(performance.now() - start);
      result.callsPerRefresh.push(calls);
    }
    for (let round = 0; round < rounds; round++) {
      // Everyone's clock reads one minute before the stored token expires: inside the 5-minute margin.
      const expiresAt = Date.parse((await connectors.get(ORG, CONNECTOR))?.tokens?.expiresAt ?? "");
      const offset = expiresAt - 60_000 - Date.now();
      const before = refreshRequests();
      await Promise.all(
        Array.from({ length: callers }, () =>
          access(() => Date.now() + offset).getAccessToken(ORG, CONNECTOR),
        ),
      );
      result.requestsPerRound.push(refreshRequests() - before);
    }
    return result;
  } finally {
    await close();
  }
}

const fixed = (n: number) => n.toFixed(1);

/** The result as markdown lines (a section body for docs/benchmark.md). */
export function refreshSection(result: RefreshResult): string[] {
  const operations = [...new Set(result.callsPerRefresh.flatMap((tally) => [...tally.keys()]))].sort();
  const perRefresh = operations.map((op) => {
    const counts = result.callsPerRefresh.map((tally) => tally.get(op) ?? 0);
    const [low, high] = [Math.min(...counts), Math.max(...counts)];
    return `${op} ${low === high ? low : `${low}-${high}`}`;
  });
  return [
    "| Measure | Value |",
    "|---|--:|",
    `| Refresh latency p50 (ms, ${result.latency.length} sequential refreshes) | ${fixed(percentile(result.latency, 50))} |`,
    `| Refresh latency p99 (ms) | ${fixed(percentile(result.latency, 99))} |`,
    `| Provider refresh requests per ${result.callers} concurrent callers (max over ${result.requestsPerRound.length} rounds; target 1) | ${Math.max(...result.requestsPerRound)} |`,
    `| AWS calls per refresh | ${perRefresh.join(", ") || "not counted (call counter not installed)"} |`,
  ];
}
