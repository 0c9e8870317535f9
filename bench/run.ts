/**
 * `npm run bench`: cold start (bundle size, import time vs. a bare KMS client), warm latency per
 * endpoint and AWS calls per connect, printed as markdown and written to docs/benchmark.md.
 * BENCH_COLD_RUNS and BENCH_REQUESTS override the sample counts.
 */
import { writeFile } from "node:fs/promises";
import { availableParallelism, cpus } from "node:os";
import { join } from "node:path";
import { installCallCounter, type Tally } from "./call-counter.ts";
import { type ColdResult, measureColdStarts } from "./cold-start.ts";
import { measureWarm, type WarmResult } from "./warm.ts";

const COLD_RUNS = Number(process.env.BENCH_COLD_RUNS ?? 30);
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 200);
const WARM_UP = 20;
const TARGETS = { coldRatio: 1.3, kms: 3, dynamodb: 5 };
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

function coldTable(results: ColdResult[]): string[] {
  const [baseline] = results as [ColdResult];
  const rows = results.map((r, i) => {
    const ratio = r.medianMs / baseline.medianMs;
    const largest = r.contents.slice(0, 3).map(([name, bytes]) => `${name} ${fixed(bytes / 1024, 0)}`);
    const target = i === 0 ? "" : verdict(ratio <= TARGETS.coldRatio);
    return `| ${r.name} | ${fixed(r.bytes / 1024)} | ${fixed(r.medianMs)} | ${fixed(ratio, 2)} | ${target} | ${largest.join(", ")} |`;
  });
  return [
    `| Bundle | Size (KB) | Import median (ms) | Ratio to baseline | Target <= ${TARGETS.coldRatio} | Largest parts (KB) |`,
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

/** Calls per connect by operation; a range when connects differed. */
function callsTable(perConnect: Tally[]): string[] {
  const operations = [...new Set(perConnect.flatMap((tally) => [...tally.keys()]))].sort();
  const range = (counts: number[]) => {
    const [low, high] = [Math.min(...counts), Math.max(...counts)];
    return low === high ? `${low}` : `${low}-${high}`;
  };
  const countsOf = (match: (op: string) => boolean) =>
    perConnect.map((tally) => [...tally].reduce((sum, [op, n]) => (match(op) ? sum + n : sum), 0));
  const rows = operations.map((op) => `| ${op} | ${range(countsOf((o) => o === op))} | |`);
  for (const [service, target] of [
    ["KMS", TARGETS.kms],
    ["DynamoDB", TARGETS.dynamodb],
  ] as const) {
    const counts = countsOf((op) => op.startsWith(`${service} `));
    rows.push(
      `| **${service} total** | **${range(counts)}** | <= ${target}: ${verdict(Math.max(...counts) <= target)} |`,
    );
  }
  return [
    `| Call (over ${perConnect.length} warm connects) | Per connect | Target |`,
    "|---|--:|---|",
    ...rows,
  ];
}

function report(cold: ColdResult[], warm: WarmResult): string {
  const machine = `${availableParallelism()} CPUs (nproc), ${cpus()[0]?.model ?? "unknown CPU"}`;
  return [
    "# Benchmark",
    "",
    `Run ${new Date().toISOString()} on Node ${process.version}, ${machine}.`,
    "Rerun with `npm run bench` (about 1-2 minutes); `BENCH_COLD_RUNS` and `BENCH_REQUESTS` change the sample counts.",
    "",
    "## Cold start",
    "",
    "Each entry bundled with esbuild (bundle, minify, platform node, ESM, target node22, ESM entry points",
    `first, createRequire banner); median time of \`await import(bundle)\` over ${COLD_RUNS} fresh Node`,
    "processes per bundle, rounds interleaved with the baseline. The functions' settings are given as",
    "environment variables; no network call happens at import.",
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
    "Counted by an SDK middleware added to every client instance (bench/call-counter.ts).",
    "",
    ...callsTable(warm.callsPerConnect),
    "",
  ].join("\n");
}

installCallCounter();
const cold = await measureColdStarts(SUBJECTS, COLD_RUNS);
const warm = await measureWarm(REQUESTS, WARM_UP);
const markdown = report(cold, warm);
console.log(markdown);
await writeFile(join(ROOT, "docs/benchmark.md"), markdown);
