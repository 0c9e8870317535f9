/**
 * `npm run bench`: cold start (bundle size, import time vs. a bare KMS client), warm latency per
 * endpoint and AWS calls per connect, printed as markdown and written to docs/benchmark.md.
 * BENCH_COLD_RUNS and BENCH_REQUESTS override the sample counts.
 */
import { writeFile } from "node:fs/promises";
import { availableParallelism, cpus } from "node:os";
import { join } from "node:path";
import { DEFAULT_MAX_PENDING_FLOWS } from "@connector-oauth/core";
import { handlers } from "@connector-oauth/functions/routes";
import { installCallCounter, type Tally } from "./call-counter.ts";
import { type ColdResult, measureColdStarts } from "./cold-start.ts";
import { floodSection } from "./flood.ts";
import { measureRefresh, type RefreshResult, refreshSection } from "./refresh.ts";
import { measureWarm, type WarmResult } from "./warm.ts";

const COLD_RUNS = Number(process.env.BENCH_COLD_RUNS ?? 40);
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 200);
const WARM_UP = 20;
// DynamoDB: 5 before the reliability work (docs/reliability.md), then one slots UpdateItem at
// authorize and the flow read before the consume: 7 per connect; and once the user's pending slots
// are full (every DEFAULT_MAX_PENDING_FLOWS-th connect of one user), one read of the slots item,
// one read per slot and one write: (max + 2) / max calls per connect, amortized.
const PRUNE_CALLS = (DEFAULT_MAX_PENDING_FLOWS + 2) / DEFAULT_MAX_PENDING_FLOWS;
const TARGETS = { coldRatio: 1.3, kms: 3, dynamodb: 7 + PRUNE_CALLS };
const ROOT = join(import.meta.dirname, "..");

const SUBJECTS = [
  { name: "baseline: bare @aws-sdk/client-kms", entry: "bench/baseline-kms.ts" },
  { name: "authorize", entry: "functions/src/authorize.ts" },
  { name: "callback", entry: "functions/src/callback.ts" },
  { name: "getTokenFromCode", entry: "functions/src/get-token-from-code.ts" },
].map((s) => ({ ...s, entry: join(ROOT, s.entry) }));

const fixed = (n: number, digits = 1) => n.toFixed(digits);
const verdict = (ok: boolean) => (ok ? "ok" : "**missed**");

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)] as number;
}

/** The largest parts of a bundle, or for a function what it adds over the baseline, in KB. */
function largestParts(result: ColdResult, baseline?: ColdResult): string {
  const before = new Map(baseline?.contents);
  return result.contents
    .map(([name, bytes]) => [name, bytes - (before.get(name) ?? 0)] as const)
    .sort((a, b) => b[1] - a[1])
    .slice(0, 4)
    .map(([name, bytes]) => `${baseline ? "+" : ""}${name} ${fixed(bytes / 1024, 0)}`)
    .join(", ");
}

function coldTable(results: ColdResult[]): string[] {
  const [baseline] = results as [ColdResult];
  const rows = results.map((r, i) => {
    const target = i === 0 ? "" : verdict(r.ratio <= TARGETS.coldRatio);
    const parts = largestParts(r, i === 0 ? undefined : baseline);
    return `| ${r.name} | ${fixed(r.bytes / 1024)} | ${fixed(r.medianMs)} | ${fixed(r.ratio, 2)} | ${target} | ${parts} |`;
  });
  return [
    `| Bundle | Size (KB) | Import median (ms) | Ratio to baseline | Target <= ${TARGETS.coldRatio} | Largest parts (functions: added over the baseline), KB |`,
    "|---|--:|--:|--:|---|---|",
    ...rows,
  ];
}

function latencyTable(warm: WarmResult): string[] {
  const rows = Object.entries(warm.latency).map(
    ([endpoint, ms]) =>
      `| ${endpoint} | ${ms.length} | ${fixed(percentile(ms, 50))} | ${fixed(percentile(ms, 99))} |`,
  );
  return ["| Endpoint | Requests | p50 (ms) | p99 (ms) |", "|---|--:|--:|--:|", ...rows];
}

/** Calls per connect by operation: the first connect, and the warm ones (a range if they differed). */
function callsTable(first: Tally, perConnect: Tally[]): string[] {
  const operations = [...new Set([first, ...perConnect].flatMap((tally) => [...tally.keys()]))].sort();
  const sum = (tally: Tally, match: (op: string) => boolean) =>
    [...tally].reduce((total, [op, n]) => (match(op) ? total + n : total), 0);
  const warm = (match: (op: string) => boolean) => {
    const counts = perConnect.map((tally) => sum(tally, match));
    const [low, high] = [Math.min(...counts), Math.max(...counts)];
    const mean = counts.reduce((a, b) => a + b, 0) / counts.length;
    return { text: low === high ? `${low}` : `${low}-${high} (mean ${fixed(mean, 2)})`, mean };
  };
  const rows = operations.map(
    (op) => `| ${op} | ${sum(first, (o) => o === op)} | ${warm((o) => o === op).text} | |`,
  );
  for (const [service, target] of [
    ["KMS", TARGETS.kms],
    ["DynamoDB", TARGETS.dynamodb],
  ] as const) {
    const inService = (op: string) => op.startsWith(`${service} `);
    // Checked on the mean: a user's pending slots are pruned on every 20th authorize (one read per
    // finished flow), an amortized cost (docs/reliability.md).
    const { text, mean } = warm(inService);
    rows.push(
      `| **${service} total** | ${sum(first, inService)} | **${text}** | mean <= ${fixed(target, 2)}: ${verdict(mean <= target + 1e-9)} |`,
    );
  }
  return [
    `| Call | First connect of the process | Warm, per connect (${perConnect.length} connects) | Target (warm) |`,
    "|---|--:|--:|---|",
    ...rows,
  ];
}

function report(cold: ColdResult[], warm: WarmResult, refresh: RefreshResult): string {
  const machine = `${availableParallelism()} CPUs (nproc), ${cpus()[0]?.model ?? "unknown CPU"}`;
  return [
    "# Benchmark",
    "",
    `Run ${new Date().toISOString()} on Node ${process.version}, ${machine}.`,
    "Rerun with `npm run bench` (about a minute); `BENCH_COLD_RUNS` and `BENCH_REQUESTS` change the sample counts.",
    "",
    "## Cold start",
    "",
    "Each entry bundled with esbuild (bundle, minify, platform node, ESM, target node22, ESM entry points",
    `first, createRequire banner); median time of \`await import(bundle)\` over ${COLD_RUNS} fresh Node`,
    "processes per bundle, rounds interleaved with the baseline. The functions' settings are given as",
    "environment variables; no network call happens at import. The ratio is the median over rounds of",
    "the function's time over the baseline's in the same round; absolute times move with machine load.",
    "",
    ...coldTable(cold),
    "",
    "## Warm latency",
    "",
    `Sequential requests over loopback HTTP through the local API to the real handlers, after ${WARM_UP}`,
    "untimed connects and legacy exchanges; DynamoDB is dynalite, KMS the local KMS and the provider",
    "oidc-provider, all in the same process, so the figures compare endpoints and releases, not AWS.",
    "callback = the provider's redirect to our callback (code exchange included); the login at the",
    "provider that yields the code is not timed.",
    "",
    ...latencyTable(warm),
    "",
    "## AWS calls per connect (authorize + callback), warm",
    "",
    "Counted by an SDK middleware added to every client instance (bench/call-counter.ts). The first",
    "connect also decrypts the connector's client-secret data key, which stays cached for 5 minutes.",
    "",
    ...callsTable(warm.callsFirstConnect, warm.callsPerConnect),
    "",
    "## Token refresh (sync workers)",
    "",
    "getAccessToken / refresh through the AWS-wired token access (DynamoDB lease, version-checked",
    "write) against oidc-provider with rotating refresh tokens; each concurrent caller is its own",
    "token-access instance, as separate processes would be.",
    "",
    ...refreshSection(refresh),
    "",
    "## Forged-state callback (flooding)",
    "",
    "The callback is unauthenticated: anyone can send it a well-formed state with a wrong MAC. It is",
    "refused after one KMS VerifyMac, before any DynamoDB read or provider call. Sequential requests",
    "through the real callback handler; costs from AWS list prices (us-east-1, no free tier; KMS",
    "$0.03 per 10,000 requests, https://aws.amazon.com/kms/pricing/; bench/flood.ts cites the others),",
    "the Lambda time taken as the local median (AWS KMS adds its in-region round trip).",
    "",
    ...floodSection(warm.flood, handlers.Callback.throttle),
    "",
  ].join("\n");
}

installCallCounter();
const cold = await measureColdStarts(SUBJECTS, COLD_RUNS);
const warm = await measureWarm(REQUESTS, WARM_UP);
const refresh = await measureRefresh(Number(process.env.BENCH_REFRESHES ?? 100), 100, 5);
const markdown = report(cold, warm, refresh);
console.log(markdown);
await writeFile(join(ROOT, "docs/benchmark.md"), markdown);
