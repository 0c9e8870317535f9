/**
 * Import + first request, and CPU per warm request: each round, each subject's bundle is imported
 * in a fresh Node that then answers the round's events (bench/invoke.mjs). The local services
 * (dynalite, the local KMS, oidc-provider) and the in-process handlers that prepare states and
 * codes run in this process, so their CPU is not counted in the measured one.
 */
import { fork } from "node:child_process";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { median } from "./cold-start.ts";
import type { Subject, World } from "./functions.ts";
import type { LambdaEvent } from "./requests.ts";

const INVOKE = join(import.meta.dirname, "invoke.mjs");

interface Invocation {
  importMs: number;
  firstMs: number;
  /** Per warm request: wall and CPU time, and its HTTP round trips (bench/invoke.mjs). */
  warm: { ms: number; cpuMs: number; http: number; fetch: number }[];
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
  /** Median round trips per warm request: node:http requests (the AWS SDK), fetch (the provider). */
  http: number;
  fetch: number;
  /** CPU per warm request once the process has served `steady` / 2 of them (the JIT warm): the
   * second half of one process's `steady` warm requests. */
  steadyCpuMs: number[];
}

/** Events per message to bench/invoke.mjs: the rounds' invocations get all theirs in one. */
const BATCH = 21;

/** One fresh Node (bench/invoke.mjs) imports `outfile` and answers `count` events of `subject`,
 * prepared in batches as it asks for them. */
async function invoke(subject: Subject, outfile: string, world: World, count: number) {
  const request = subject.request;
  if (!request) throw new Error(`${subject.name}: no request`);
  const child = fork(INVOKE, [pathToFileURL(outfile).href, String(count), String(BATCH)], {
    env: { PATH: process.env.PATH, ...world.env },
    // A bare node: not this process's flags (tsx's loader), which would load with the bundle.
    execArgv: [],
    stdio: ["ignore", "pipe", "pipe", "ipc"],
  });
  // Read and dropped, as Lambda's runtime takes the function's log lines from a pipe.
  child.stdout?.resume();
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-2_000);
  });
  const prepare = async (n: number) => {
    const events: LambdaEvent[] = [];
    for (let i = 0; i < n; i++) events.push(await request.event(world));
    return events;
  };
  const result = await new Promise<Invocation>((resolve, reject) => {
    child.on("message", (message: { events?: number; result?: Invocation }) => {
      if (message.result) resolve(message.result);
      else prepare(message.events ?? 0).then((events) => child.send(events), reject);
    });
    child.on("error", reject);
    child.on("exit", (code) => reject(new Error(`${subject.name}: exited ${code}: ${stderr}`)));
  });
  const wrong = result.outcomes.filter((outcome) => outcome !== request.outcome);
  if (wrong.length > 0)
    throw new Error(`${subject.name}: outcomes ${wrong.join(", ")}, not ${request.outcome}`);
  return result;
}

/** `rounds` rounds in rotating order; each invocation makes 1 + `warm` requests. Then one
 * invocation per subject of 1 + `steady` requests, for the CPU of a warm request in a process that
 * has served many (V8 compiles a function's code lazily and optimizes it once it runs often, so the
 * first warm requests also pay for compiling). Give only subjects with requests; the first is the
 * baseline of the ratios. */
export async function measureFirstRequests(
  subjects: Subject[],
  outfiles: string[],
  world: World,
  options: { rounds: number; warm: number; steady: number },
): Promise<FirstRequestResult[]> {
  const runs = subjects.map(() => [] as Invocation[]);
  for (let round = 0; round < options.rounds; round++) {
    for (let k = 0; k < subjects.length; k++) {
      const i = (round + k) % subjects.length;
      const subject = subjects[i] as Subject;
      runs[i]?.push(await invoke(subject, outfiles[i] as string, world, 1 + options.warm));
    }
  }
  const steady: Invocation[] = [];
  for (const [i, subject] of subjects.entries())
    steady.push(await invoke(subject, outfiles[i] as string, world, 1 + options.steady));
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
      http: median(own.flatMap((r) => r.warm.map((w) => w.http))),
      fetch: median(own.flatMap((r) => r.warm.map((w) => w.fetch))),
      steadyCpuMs: (steady[i] as Invocation).warm.slice(Math.floor(options.steady / 2)).map((w) => w.cpuMs),
    };
  });
}
