/**
 * Bundles an entry as SST 4.17.1 bundles a function for `sst deploy` (pkg/runtime/node/build.go):
 * esbuild, ESM for Node 22 (target es2023 for nodejs22.x), minified, names kept, module entry points
 * first, SST's createRequire banner, and the function's `nodejs.plugins` file run the way SST runs
 * it: loaded by .sst/platform/functions/nodejs-runtime/plugin.mjs in a bare `node`, every resolve
 * and load of the build sent to it as a JSON line (pkg/runtime/node/plugin.go). Running the
 * plugins through that bridge, not directly, is the point: the bridge has quirks a plugin must
 * survive (stacks/esbuild/lean-credentials.mjs). Used by the bench and by
 * test/infra/bundled-functions.test.ts, so both measure and start what is deployed.
 */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { stat } from "node:fs/promises";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { build, type Metafile, type Plugin } from "esbuild";
import { DEFAULT_CHAIN_FILES } from "../stacks/esbuild/lean-credentials.mjs";

export const ROOT = join(import.meta.dirname, "..");
const BRIDGE = join(ROOT, ".sst/platform/functions/nodejs-runtime/plugin.mjs");

const BANNER = [
  "import { createRequire as topLevelCreateRequire } from 'module';",
  "const require = topLevelCreateRequire(import.meta.url);",
  'import { fileURLToPath as topLevelFileUrlToPath, URL as topLevelURL } from "url"',
  "const __filename = topLevelFileUrlToPath(import.meta.url)",
  'const __dirname = topLevelFileUrlToPath(new topLevelURL(".", import.meta.url))',
].join("\n");

export interface Bundle {
  outfile: string;
  bytes: number;
  /** Bytes in the bundle per npm package (or workspace folder), largest first. */
  contents: [string, number][];
  /** Bytes of the default credential chain's files in the bundle (0 when lean). */
  defaultChainBytes: number;
  metafile: Metafile;
}

/** The source file of an SST handler ("functions/src/authorize.handler"), from the repository root. */
export function handlerFile(handler: string): string {
  const base = handler.slice(0, handler.lastIndexOf("."));
  const file = [".ts", ".mts", ".js", ".mjs"].map((ext) => base + ext).find((f) => existsSync(join(ROOT, f)));
  if (!file) throw new Error(`no source file for handler ${handler}`);
  return file;
}

/** What a function's SST properties change in its build (build.go reads them from `nodejs`). */
export interface BuildOptions {
  /** Default true (FUNCTION_DEFAULTS sets `nodejs.minify`). */
  minify?: boolean;
  keepNames?: boolean;
  /** Beyond sharp and pg-native, which SST always leaves out. */
  external?: string[];
  /** es2023 for nodejs22.x. */
  target?: string;
  sourcemap?: "linked";
  logLevel?: "silent" | "warning";
}

/**
 * `entry` from the repository root; `plugins`: a `nodejs.plugins` file from the repository root
 * (SST resolves it from the directory `sst` runs in), or none for a bundle as AWS ships it.
 * Throws esbuild's error (with its `errors`) when the build fails.
 */
export async function bundle(
  entry: string,
  outfile: string,
  plugins?: string,
  options: BuildOptions = {},
): Promise<Bundle> {
  const bridge = plugins ? pluginBridge(plugins) : undefined;
  try {
    const result = await build({
      entryPoints: [join(ROOT, entry)],
      outfile,
      bundle: true,
      minify: options.minify ?? true,
      keepNames: options.keepNames ?? true,
      platform: "node",
      format: "esm",
      target: options.target ?? "es2023",
      mainFields: ["module", "main"],
      external: ["sharp", "pg-native", ...(options.external ?? [])],
      sourcemap: options.sourcemap,
      banner: { js: BANNER },
      plugins: bridge ? [bridge.plugin] : [],
      metafile: true,
      logLevel: options.logLevel ?? "warning",
    });
    const inputs = Object.values(result.metafile.outputs).flatMap((output) => Object.entries(output.inputs));
    const defaultChainBytes = inputs
      .filter(([path]) => DEFAULT_CHAIN_FILES.test(path))
      .reduce((sum, [, { bytesInOutput }]) => sum + bytesInOutput, 0);
    return {
      outfile,
      bytes: (await stat(outfile)).size,
      contents: contentsOf(inputs),
      defaultChainBytes,
      metafile: result.metafile,
    };
  } finally {
    bridge?.close();
  }
}

function contentsOf(inputs: [string, { bytesInOutput: number }][]): [string, number][] {
  const totals = new Map<string, number>();
  for (const [path, { bytesInOutput }] of inputs) {
    const owner =
      /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path)?.[1] ?? path.split("/").slice(0, 2).join("/");
    totals.set(owner, (totals.get(owner) ?? 0) + bytesInOutput);
  }
  return [...totals].sort((a, b) => b[1] - a[1]);
}

/** The fields plugin.go copies back from a reply; the others are dropped. */
const RESOLVE_FIELDS = ["path", "namespace", "suffix", "external", "sideEffects", "pluginName", "errors"];
const LOAD_FIELDS = ["contents", "loader", "resolveDir", "pluginName", "errors", "warnings"];

/** SST's plugin bridge for the plugins file `file` (from the repository root), as plugin.go drives it. */
function pluginBridge(file: string): { plugin: Plugin; close: () => void } {
  if (!existsSync(BRIDGE)) throw new Error(`${BRIDGE} missing: run stacks/install-platform.sh`);
  const child = spawn("node", [BRIDGE, join(ROOT, file)], { cwd: ROOT, stdio: ["pipe", "pipe", "inherit"] });
  const pending = new Map<number, (value: Record<string, unknown>) => void>();
  createInterface({ input: child.stdout }).on("line", (line) => {
    const { id, value } = JSON.parse(line) as { id: number; value: Record<string, unknown> };
    pending.get(id)?.(value);
    pending.delete(id);
  });
  let ids = 0;
  const request = (command: string, value: object, fields: string[]) =>
    new Promise<Record<string, unknown>>((resolve) => {
      const id = ids++;
      pending.set(id, (reply) =>
        resolve(Object.fromEntries(fields.filter((key) => key in reply).map((key) => [key, reply[key]]))),
      );
      child.stdin.write(`${JSON.stringify({ id, command, value })}\n`);
    });
  const plugin: Plugin = {
    name: "nodejs-plugin",
    setup(esbuild) {
      esbuild.onResolve({ filter: /.*/ }, ({ path, importer, namespace, resolveDir, kind, with: w }) =>
        request("resolve", { path, importer, namespace, resolveDir, kind, with: w }, RESOLVE_FIELDS),
      );
      esbuild.onLoad({ filter: /.*/ }, ({ path, namespace, suffix, with: w }) =>
        request("load", { path, namespace, suffix, with: w }, LOAD_FIELDS),
      );
    },
  };
  return { plugin, close: () => child.kill() };
}
