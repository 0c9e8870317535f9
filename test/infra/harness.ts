/**
 * Runs sst.config.ts the way `sst deploy` (SST 4.17.1) does, offline, under Pulumi mocks, and records
 * what it would create. Every reliance on SST internals is in this file; each step names the SST
 * source it mirrors (github.com/sst/sst, pkg/... is the Go CLI, platform/... is .sst/platform):
 * 1. evaluate app() to get $app (pkg/project: the CLI's first pass over the config);
 * 2. bundle the config with esbuild like pkg/project/run.go + pkg/js/js.go: define $app/$cli/$dev,
 *    inject platform/src/shim/run.js, prepend the provider globals to every file, wrap with
 *    platform/src/auto/run.ts;
 * 3. answer the components' JSON-RPC calls to the CLI at SST_SERVER: Provider.Aws.Bootstrap, and
 *    Runtime.Build, which bundles each handler like pkg/runtime/node/build.go and writes resource.enc
 *    like pkg/runtime/runtime.go;
 * 4. run the bundle as the root of a Pulumi stack with mocks that record every resource and answer
 *    the provider functions components call (getPolicyDocument needs `json`, RandomBytes `base64`).
 * Pulumi is loaded from .sst/platform/node_modules, the copy the bundle uses: one Pulumi instance.
 */
import { spawnSync } from "node:child_process";
import { createCipheriv } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import * as esbuild from "esbuild";
import { bundle, handlerFile } from "../../bench/bundle.ts";

export const ROOT = fileURLToPath(new URL("../..", import.meta.url)).replace(/\/$/, "");
const PLATFORM = join(ROOT, ".sst/platform");
export const ACCOUNT = "123456789012";
export const REGION = "us-east-1";

/** Installs the platform (stacks/install-platform.sh) unless it is there; ~1 min the first time. */
export function ensurePlatform(): void {
  const run = spawnSync("bash", [join(ROOT, "stacks/install-platform.sh")], { cwd: ROOT, encoding: "utf8" });
  if (run.status !== 0) {
    throw new Error(`stacks/install-platform.sh failed (SST platform missing):\n${run.stdout}${run.stderr}`);
  }
}

export interface Recorded {
  type: string;
  name: string;
  inputs: Record<string, unknown>;
  state: Record<string, unknown>;
}

/** What the components sent to Runtime.Build, and where the handler was bundled. */
export interface Build {
  functionID: string;
  handler: string;
  runtime: string;
  properties: Record<string, unknown>;
  links: Record<string, Record<string, unknown>>;
  out: string;
  errors: string[];
  /** The files the bundle is made of (esbuild's metafile inputs, from the repository root). */
  inputs?: string[];
}

export interface Deployment {
  /** $app as the program saw it (stage, protect, removal, ...). */
  app: Record<string, unknown>;
  resources: Recorded[];
  builds: Build[];
  outputs: Record<string, unknown>;
  /** The app's linkable components as deploy records them for sst-env.d.ts: name -> properties. */
  links: Record<string, Record<string, unknown>>;
  /** Where the fake CLI wrote artifacts (bundles, zips); delete when done. */
  work: string;
}

// Step 1 ------------------------------------------------------------------------------------------
let apps = 0;
/** $app for `stage`, as the CLI computes it from app() before running anything (throws as app() does). */
export async function evaluateApp(stage: string, work: string): Promise<Record<string, unknown>> {
  // A new file per call: ESM caches modules by URL.
  const outfile = join(work, `app-${stage}-${++apps}.mjs`);
  await esbuild.build({
    stdin: {
      contents: `import mod from ${JSON.stringify(join(ROOT, "sst.config.ts"))}; export default mod.app({ stage: ${JSON.stringify(stage)} });`,
      resolveDir: ROOT,
      loader: "ts",
    },
    banner: { js: "globalThis.$config = (input) => input;" },
    plugins: [
      {
        // The CLI refuses top-level imports in sst.config.ts (pkg/js: ErrTopLevelImport).
        name: "DisallowImports",
        setup(build) {
          build.onResolve({ filter: /.*/ }, (args) => {
            if (args.importer.endsWith("/sst.config.ts") && args.kind === "import-statement") {
              return { errors: [{ text: `top-level import of ${args.path} in sst.config.ts` }] };
            }
            return undefined;
          });
        },
      },
    ],
    bundle: true,
    format: "esm",
    platform: "node",
    outfile,
    logLevel: "silent",
  });
  const app = (await import(pathToFileURL(outfile).href)).default as Record<string, unknown>;
  return { ...app, stage, removal: app.removal ?? "retain", protect: Boolean(app.protect) };
}

// Step 2 ------------------------------------------------------------------------------------------
let bundles = 0;
async function bundleProgram(app: Record<string, unknown>, work: string): Promise<string> {
  // Written inside .sst/platform so that its externals (@pulumi/*) resolve to the platform's copies.
  const outfile = join(PLATFORM, `sst.config.test-${process.pid}-${++bundles}.mjs`);
  const globals = [
    `import * as aws from "@pulumi/aws";`, // from .sst/provider-lock.json
    `import * as sst from ${JSON.stringify(join(PLATFORM, "src/components"))};`,
  ].join("\n");
  const cli = {
    command: "deploy",
    dev: false,
    paths: { home: work, root: ROOT, work, platform: PLATFORM },
    state: { version: {} },
  };
  await esbuild.build({
    stdin: {
      contents: [
        `import { run } from ${JSON.stringify(join(PLATFORM, "src/auto/run.ts"))};`,
        `import mod from ${JSON.stringify(join(ROOT, "sst.config.ts"))};`,
        "export default await run(mod.run);",
      ].join("\n"),
      resolveDir: ROOT,
      sourcefile: "eval.ts",
      loader: "ts",
    },
    define: { $app: JSON.stringify(app), $cli: JSON.stringify(cli), $dev: "false" },
    inject: [join(PLATFORM, "src/shim/run.js")],
    plugins: [
      {
        name: "InjectGlobals",
        setup(build) {
          build.onLoad({ filter: /\.(js|ts|jsx|tsx)$/ }, (args) => {
            if (args.path.includes("/.sst/")) return undefined;
            return { contents: `${globals}\n${readFileSync(args.path, "utf8")}`, loader: "default" };
          });
        },
      },
    ],
    nodePaths: [join(PLATFORM, "node_modules")],
    external: [
      "@pulumi/*",
      "undici",
      "@pulumiverse/*",
      "@sst-provider/*",
      "@aws-sdk/*",
      "esbuild",
      "archiver",
      "glob",
      "vite",
    ],
    banner: {
      js: "import { createRequire as topLevelCreateRequire } from 'module';\nconst require = topLevelCreateRequire(import.meta.url);",
    },
    mainFields: ["module", "main"],
    format: "esm",
    platform: "node",
    bundle: true,
    outfile,
    logLevel: "silent",
  });
  return outfile;
}

// Step 3 ------------------------------------------------------------------------------------------
// The handler's build is bench/bundle.ts, the one model of pkg/runtime/node/build.go (with the
// function's `nodejs.plugins` run through SST's own plugin bridge), so what these tests start is
// what the bench measures and what deploy ships.
const NODE_TARGETS: Record<string, string> = { "nodejs22.x": "es2023", "nodejs24.x": "es2024" };

async function runtimeBuild(input: Omit<Build, "out" | "errors"> & { encryptionKey: string }, work: string) {
  const out = join(work, "artifacts", `${input.functionID}-src`);
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  const props = input.properties as {
    minify?: boolean;
    plugins?: string;
    esbuild?: { external?: string[]; keepNames?: boolean };
  };
  let inputs: string[] = [];
  const result = await bundle(handlerFile(input.handler), join(out, "bundle.mjs"), props.plugins, {
    minify: props.minify === true,
    keepNames: props.esbuild?.keepNames ?? true,
    external: props.esbuild?.external,
    target: NODE_TARGETS[input.runtime] ?? "es2023",
    sourcemap: "linked",
    logLevel: "silent",
  }).then(
    (built) => {
      inputs = Object.keys(built.metafile.inputs);
      return [];
    },
    (error: { errors?: { text: string }[]; message?: string }) =>
      error.errors?.map((e) => e.text) ?? [String(error.message)],
  );
  if (result.length > 0) return { out, errors: result };
  // resource.enc: the links as JSON, AES-256-GCM under SST_KEY with a zero nonce, tag appended.
  const cipher = createCipheriv("aes-256-gcm", Buffer.from(input.encryptionKey, "base64"), Buffer.alloc(12));
  const sealed = Buffer.concat([
    cipher.update(JSON.stringify(input.links)),
    cipher.final(),
    cipher.getAuthTag(),
  ]);
  writeFileSync(join(out, "resource.enc"), sealed);
  return { out, errors: [], inputs };
}

async function startCli(work: string, builds: Build[]): Promise<Server> {
  const methods: Record<string, (args: never) => Promise<unknown>> = {
    "Provider.Aws.Bootstrap": async () => ({
      asset: "sst-asset-test",
      assetEcrRegistryId: ACCOUNT,
      assetEcrUrl: `${ACCOUNT}.dkr.ecr.${REGION}.amazonaws.com/sst-asset`,
      state: "sst-state-test",
    }),
    "Runtime.Build": async (args: Omit<Build, "out" | "errors"> & { encryptionKey: string }) => {
      const { out, errors, inputs } = await runtimeBuild(args, work);
      const { encryptionKey: _, ...input } = args;
      builds.push({ ...input, out, errors, inputs });
      // Source maps are listed so the zip leaves them out, as SST does.
      return { handler: "bundle.handler", out, errors, sourcemaps: [join(out, "bundle.mjs.map")] };
    },
  };
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (chunk) => {
      body += chunk;
    });
    req.on("end", async () => {
      const { method, params } = JSON.parse(body) as { method: string; params: [never] };
      const call = methods[method];
      const reply = call
        ? await call(params[0]).then(
            (result) => ({ result }),
            (error: Error) => ({ error: error.message }),
          )
        : { error: `rpc: can't find method ${method}` };
      res.end(JSON.stringify(reply));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return server;
}

// Step 4 ------------------------------------------------------------------------------------------
/** Outputs the mocked provider computes, enough for ARNs and names to look real. */
function computed(type: string, name: string, inputs: Record<string, unknown>): Record<string, unknown> {
  const physical = typeof inputs.name === "string" ? inputs.name : `${name}-mock`;
  const service = type.split(":")[1]?.split("/")[0] ?? "mock";
  const arn = `arn:aws:${service}:${REGION}:${ACCOUNT}:${physical}`;
  switch (type) {
    case "aws:kms/key:Key":
      return { arn: `arn:aws:kms:${REGION}:${ACCOUNT}:key/${name}-id`, keyId: `${name}-id` };
    case "aws:dynamodb/table:Table":
      return { arn: `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/${physical}`, name: physical };
    case "aws:iam/role:Role":
      return { arn: `arn:aws:iam::${ACCOUNT}:role/${physical}`, name: physical };
    case "aws:iam/policy:Policy":
      return { arn: `arn:aws:iam::${ACCOUNT}:policy/${physical}`, name: physical };
    case "aws:lambda/function:Function":
      return { arn: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${physical}`, name: physical };
    case "aws:cloudwatch/logGroup:LogGroup":
      return { arn: `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:${physical}`, name: physical };
    case "aws:apigatewayv2/api:Api":
      return {
        apiEndpoint: `https://${name}-id.execute-api.${REGION}.amazonaws.com`,
        executionArn: `arn:aws:execute-api:${REGION}:${ACCOUNT}:${name}-id`,
      };
    case "random:index/randomBytes:RandomBytes":
      return { base64: Buffer.alloc(Number(inputs.length ?? 32), 7).toString("base64") };
    default:
      return { arn, name: physical };
  }
}

/** aws.iam.getPolicyDocument, rendered as IAM JSON (conditions merged per operator). */
function policyDocument(inputs: { statements?: Record<string, unknown>[] }) {
  const statements = (inputs.statements ?? []).map((s) => {
    const conditions = (s.conditions ?? []) as { test: string; variable: string; values: string[] }[];
    const condition: Record<string, Record<string, string[]>> = {};
    for (const { test, variable, values } of conditions)
      condition[test] = { ...condition[test], [variable]: values };
    return {
      Effect: s.effect ?? "Allow",
      ...(s.actions ? { Action: s.actions } : {}),
      ...(s.resources ? { Resource: s.resources } : {}),
      ...(s.principals ? { Principal: s.principals } : {}),
      ...(conditions.length > 0 ? { Condition: condition } : {}),
    };
  });
  return {
    json: JSON.stringify({ Version: "2012-10-17", Statement: statements }),
    statements: inputs.statements,
  };
}

function invoke(token: string, inputs: Record<string, unknown>): Record<string, unknown> {
  switch (token) {
    case "aws:index/getRegion:getRegion":
      return { name: REGION, region: REGION, id: REGION };
    case "aws:index/getPartition:getPartition":
      return { partition: "aws", dnsSuffix: "amazonaws.com", id: "aws" };
    case "aws:index/getCallerIdentity:getCallerIdentity":
      return { accountId: ACCOUNT, arn: `arn:aws:iam::${ACCOUNT}:user/test`, userId: "TEST", id: ACCOUNT };
    case "aws:iam/getPolicyDocument:getPolicyDocument":
      return policyDocument(inputs);
    default:
      throw new Error(`unmocked provider function ${token}`);
  }
}

interface PulumiRuntime {
  setMocks(mocks: unknown, project: string, stack: string, preview: boolean): Promise<void>;
  runInPulumiStack(init: () => Promise<unknown>): Promise<Record<string, unknown>>;
  waitForRPCs(): Promise<void>;
}

/** Runs sst.config.ts for `stage` with the given secrets (SST passes them as SST_SECRET_<name>). */
export async function deployUnderMocks(stage: string, secrets: Record<string, string>): Promise<Deployment> {
  const work = mkdtempSync(join(tmpdir(), "sst-mock-"));
  const resources: Recorded[] = [];
  const builds: Build[] = [];
  const app = await evaluateApp(stage, work);
  const program = await bundleProgram(app, work);
  const server = await startCli(work, builds);
  const saved = { ...process.env };
  let onFailure: ((reason: unknown) => void) | undefined;
  try {
    const { port } = server.address() as { port: number };
    process.env.SST_SERVER = `http://127.0.0.1:${port}`;
    for (const [name, value] of Object.entries(secrets)) process.env[`SST_SECRET_${name}`] = value;

    const pulumi = createRequire(join(PLATFORM, "package.json"))("@pulumi/pulumi") as {
      runtime: PulumiRuntime;
    };
    await pulumi.runtime.setMocks(
      {
        newResource: ({ type, name, inputs }: Recorded) => {
          const state = { ...inputs, ...computed(type, name, inputs) };
          resources.push({ type, name, inputs: reveal(inputs), state: reveal(state) });
          return { id: `${name}-id`, state };
        },
        call: ({ token, inputs }: { token: string; inputs: Record<string, unknown> }) =>
          invoke(token, inputs),
      },
      String(app.name),
      stage,
      false,
    );
    // An error thrown inside an apply (a failed check, a failed build) surfaces only as an unhandled
    // rejection, and the stack never settles; the CLI fails the deploy, so this fails the run.
    const failed = new Promise<never>((_, reject) => {
      onFailure = reject;
      process.on("unhandledRejection", onFailure);
    });
    const outputs = await Promise.race([
      pulumi.runtime.runInPulumiStack(async () => (await import(pathToFileURL(program).href)).default),
      failed,
    ]);
    await Promise.race([pulumi.runtime.waitForRPCs(), failed]); // resources created inside applies
    return { app, resources, builds, outputs, links: linkRefs(resources), work };
  } catch (error) {
    rmSync(work, { recursive: true, force: true });
    throw error;
  } finally {
    if (onFailure) process.off("unhandledRejection", onFailure);
    process.env = saved;
    server.close();
    rmSync(program, { force: true });
  }
}

/** Pulumi's secret envelopes ({ <signature>: ..., value }) replaced by their values, as deploy reads state. */
function reveal<T>(value: T): T {
  if (Array.isArray(value)) return value.map(reveal) as T;
  if (value === null || typeof value !== "object") return value;
  const object = value as Record<string, unknown>;
  if (SECRET_SIGNATURE in object) return reveal(object.value) as T;
  return Object.fromEntries(Object.entries(object).map(([key, v]) => [key, reveal(v)])) as T;
}
const SECRET_SIGNATURE = "4dabf18193072939515e22adb298388d";

/** Each top-level linkable's LinkRef (platform/src/components/link.ts), typed like deploy does. */
function linkRefs(resources: Recorded[]): Record<string, Record<string, unknown>> {
  const links: Record<string, Record<string, unknown>> = {};
  for (const ref of resources.filter((r) => r.type === "sst:sst:LinkRef")) {
    const target = ref.name.replace(/LinkRef$/, "");
    const component = resources.find((r) => r.name === target && r.type.startsWith("sst:"));
    const properties = Object.fromEntries(
      Object.entries(ref.inputs.properties as Record<string, unknown>).filter(([, v]) => v !== undefined),
    );
    links[target] = { ...properties, type: component?.type.replaceAll(":", ".") };
  }
  return links;
}

/** sst-env.d.ts as pkg/types/typescript/typescript.go renders it from the app's links. */
export function renderSstEnv(links: Record<string, Record<string, unknown>>): string {
  const body = Object.keys(links)
    .sort()
    .map((name) => {
      const props = links[name] ?? {};
      const lines = Object.keys(props)
        .sort()
        .map((key) => `      "${key}": ${key === "type" ? `"${String(props[key])}"` : typeof props[key]}`);
      return [`    "${name}": {`, ...lines, "    }"].join("\n");
    });
  return [
    "/* This file is auto-generated by SST. Do not edit. */",
    "/* tslint:disable */",
    "/* eslint-disable */",
    "/* deno-fmt-ignore-file */",
    "/* biome-ignore-all lint: auto-generated */",
    "",
    'declare module "sst" {',
    "  export interface Resource {",
    ...body,
    "  }",
    "}",
    "",
    'import "sst"',
    "export {}",
  ].join("\n");
}
