/**
 * Import + first request, and CPU per warm request: each round, each subject's bundle is imported
 * in a fresh Node that then answers the round's events (bench/invoke.mjs). The local services
 * (dynalite, the local KMS, oidc-provider) and the in-process handlers that prepare states and
 * codes run in this process, so their CPU is not counted in the measured one.
 */
import { execFile } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { median } from "./cold-start.ts";
import type { Subject, World } from "./functions.ts";
import type { LambdaEvent } from "./requests.ts";

const run = promisify(execFile);
const INVOKE = join(import.meta.dirname, "invoke.mjs");

interface Invocation {
  importMs: number;
  firstMs: number;
  warm: { ms: number; cpuMs: number }[];
  outcomes: string[];
}

export interface FirstRequestResult {
  name: string;
  /** Import + first response, per round. */
  firstMs: number[];
  medianFirstMs: number;
  /** Median over rounds of this subject's import + first request / the baseline's in that round. */
  ratio: number;
  warmCpuMs: number[];
  warmMs: number[];
}

async function invoke(subject: Subject, outfile: string, world: World, count: number, dir: string) {
  const events = join(dir, `${subject.name.replace(/\W+/g, "-")}.events.json`);
  const request = subject.request;
  if (!request) throw new Error(`${subject.name}: no request`);
  const list: LambdaEvent[] = [];
  for (let i = 0; i < count; i++) list.push(await request.event(world));
  await writeFile(events, JSON.stringify(list));
  const { stdout } = await run(process.execPath, [INVOKE, pathToFileURL(outfile).href, events], {
    env: { PATH: process.env.PATH, ...world.env },
  });
  const line = /^RESULT (.*)$/m.exec(stdout)?.[1];
  if (!line) throw new Error(`${subject.name}: no result: ${stdout.slice(0, 500)}`);
  const result = JSON.parse(line) as Invocation;
  const wrong = result.outcomes.filter((outcome) => outcome !== request.outcome);
  if (wrong.length > 0)
    throw new Error(`${subject.name}: outcomes ${wrong.join(", ")}, not ${request.outcome}`);
  return result;
}

/** `rounds` rounds in rotating order; each invocation makes 1 + `warm` requests. Give only
 * subjects with requests; the first is the baseline of the ratios. */
export async function measureFirstRequests(
  subjects: Subject[],
  outfiles: string[],
  world: World,
  options: { rounds: number; warm: number; dir: string },
): Promise<FirstRequestResult[]> {
  const runs = subjects.map(() => [] as Invocation[]);
  for (let round = 0; round < options.rounds; round++) {
    for (let k = 0; k < subjects.length; k++) {
      const i = (round + k) % subjects.length;
      const subject = subjects[i] as Subject;
      runs[i]?.push(await invoke(subject, outfiles[i] as string, world, 1 + options.warm, options.dir));
    }
  }
  const baseline = runs[0] as Invocation[];
  return subjects.map((subject, i) => {
    const own = runs[i] as Invocation[];
    const firstMs = own.map((r) => r.firstMs);
    return {
      name: subject.name,
      firstMs,
      medianFirstMs: median(firstMs),
      ratio: median(own.map((r, round) => r.firstMs / (baseline[round] as Invocation).firstMs)),
      warmCpuMs: own.flatMap((r) => r.warm.map((w) => w.cpuMs)),
      warmMs: own.flatMap((r) => r.warm.map((w) => w.ms)),
    };
  });
}
