/**
 * Cold start: each subject is bundled as a Lambda bundle would be (esbuild, minified ESM for Node 22)
 * and imported in fresh Node processes; rounds interleave the subjects so drift hits all alike.
 */
import { execFile } from "node:child_process";
import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { build, type Metafile } from "esbuild";

export interface Subject {
  name: string;
  entry: string;
}

export interface ColdResult extends Subject {
  bytes: number;
  samples: number[];
  medianMs: number;
  /** Median over rounds of this import time / the first subject's in the same round. */
  ratio: number;
  /** Bytes in the bundle per npm package (or workspace folder), largest first. */
  contents: [string, number][];
}

const run = promisify(execFile);
const TIMER = join(import.meta.dirname, "import-time.mjs");

/** What the functions read at import (packages/config), and nothing else. */
const CHILD_ENV = {
  TABLE_NAME: "connector-oauth",
  STATE_KEY_ID: "alias/connector-oauth-state",
  DATA_KEY_ID: "alias/connector-oauth-data",
  APP_ORIGINS: "https://app.example.com",
  PUBLIC_API_URL: "https://api.example.com",
  AUTH_HS256_SECRET: "bench-secret-0123456789abcdef",
  AWS_REGION: "us-east-1",
  AWS_ACCESS_KEY_ID: "bench",
  AWS_SECRET_ACCESS_KEY: "bench",
};

async function bundle(subject: Subject, outdir: string) {
  const outfile = join(outdir, `${subject.name}.mjs`);
  const result = await build({
    entryPoints: [subject.entry],
    outfile,
    bundle: true,
    minify: true,
    platform: "node",
    format: "esm",
    target: "node22",
    // ESM builds (SST, CDK) prefer packages' ESM entry points, which esbuild can tree-shake.
    mainFields: ["module", "main"],
    // CommonJS dependencies call require() for Node built-ins, which ESM lacks.
    banner: { js: "import{createRequire as __cr}from'node:module';const require=__cr(import.meta.url);" },
    metafile: true,
    logLevel: "warning",
  });
  return { outfile, bytes: (await stat(outfile)).size, contents: contentsOf(result.metafile) };
}

function contentsOf(metafile: Metafile): [string, number][] {
  const totals = new Map<string, number>();
  for (const output of Object.values(metafile.outputs)) {
    for (const [path, { bytesInOutput }] of Object.entries(output.inputs)) {
      const owner =
        /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path)?.[1] ?? path.split("/").slice(0, 2).join("/");
      totals.set(owner, (totals.get(owner) ?? 0) + bytesInOutput);
    }
  }
  return [...totals].sort((a, b) => b[1] - a[1]);
}

async function importMs(file: string): Promise<number> {
  const { stdout } = await run(process.execPath, [TIMER, pathToFileURL(file).href], { env: CHILD_ENV });
  const ms = /import-ms ([\d.]+)/.exec(stdout)?.[1];
  if (!ms) throw new Error(`no timing from ${file}: ${stdout}`);
  return Number(ms);
}

export const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
};

/** Bundles every subject, then runs `rounds` rounds of one fresh import each, in rotating order;
 * the first subject is the baseline of the ratios. */
export async function measureColdStarts(subjects: Subject[], rounds: number): Promise<ColdResult[]> {
  const outdir = await mkdtemp(join(tmpdir(), "connector-oauth-bench-"));
  try {
    const bundles = await Promise.all(subjects.map((subject) => bundle(subject, outdir)));
    const samples = subjects.map(() => [] as number[]);
    for (const { outfile } of bundles) await importMs(outfile); // fill the OS file cache; not counted
    for (let round = 0; round < rounds; round++) {
      for (let k = 0; k < subjects.length; k++) {
        const i = (round + k) % subjects.length;
        samples[i]?.push(await importMs((bundles[i] as { outfile: string }).outfile));
      }
    }
    return subjects.map((subject, i) => {
      const { bytes, contents } = bundles[i] as Awaited<ReturnType<typeof bundle>>;
      const own = samples[i] as number[];
      const ratio = median(own.map((ms, round) => ms / (samples[0]?.[round] as number)));
      return { ...subject, bytes, contents, samples: own, medianMs: median(own), ratio };
    });
  } finally {
    await rm(outdir, { recursive: true, force: true });
  }
}
