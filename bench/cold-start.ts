/**
 * Cold start: each subject is bundled as its function is deployed (bench/bundle.ts) and imported in
 * fresh Node processes; rounds interleave the subjects so drift hits all alike.
 */
import { execFile } from "node:child_process";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { type Bundle, bundle } from "./bundle.ts";
import type { Subject } from "./functions.ts";

export interface ColdResult extends Bundle {
  name: string;
  samples: number[];
  medianMs: number;
  /** Median over rounds of this import time / the first subject's in the same round. */
  ratio: number;
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

/** Bundles every subject into `outdir` (one file each, in the order given). */
export function bundleAll(subjects: Subject[], outdir: string): Promise<Bundle[]> {
  return Promise.all(
    subjects.map((subject, i) => bundle(subject.entry, join(outdir, `subject-${i}.mjs`), subject.plugins)),
  );
}

/** Runs `rounds` rounds of one fresh import per bundle, in rotating order; the first subject is
 * the baseline of the ratios. */
export async function measureColdStarts(
  subjects: Subject[],
  bundles: Bundle[],
  rounds: number,
): Promise<ColdResult[]> {
  const samples = subjects.map(() => [] as number[]);
  for (const { outfile } of bundles) await importMs(outfile); // fill the OS file cache; not counted
  for (let round = 0; round < rounds; round++) {
    for (let k = 0; k < subjects.length; k++) {
      const i = (round + k) % subjects.length;
      samples[i]?.push(await importMs((bundles[i] as Bundle).outfile));
    }
  }
  return subjects.map((subject, i) => {
    const own = samples[i] as number[];
    const ratio = median(own.map((ms, round) => ms / (samples[0]?.[round] as number)));
    return { ...(bundles[i] as Bundle), name: subject.name, samples: own, medianMs: median(own), ratio };
  });
}
