/**
 * The dependency rules of CONVENTIONS.md ("Shape"), checked on the source tree:
 * - `relative-cross-package`: a file reaches into another package's folder by relative path
 *   (packages/<name>/ and functions/ are packages; stacks/, test/, bench/ and the root files belong
 *   to the root package). Packages import each other by name, through their `exports`.
 * - `unexported-subpath`: a file imports a workspace package by a subpath its `exports` lacks.
 * - `core-boundary`: packages/core/src imports the AWS SDK, Smithy, SST or an HTTP/socket module,
 *   or reads `process.env` (configuration is read at the edge and passed in).
 * - `undeclared-workspace-dependency`: a package imports a workspace package (`@connector-oauth/*`)
 *   its package.json does not declare. The root package has every workspace (its `workspaces`).
 * - `undeclared-dependency`: a file imports an npm package that its package's package.json does not
 *   declare. Tests (packages/<name>/test, functions/test) may also use the root devDependencies;
 *   type-only imports may use them too, since they are erased and type-checked from the root.
 * Imports are read from the syntax tree (static, re-export, dynamic, `import()` types, require).
 */
import { type Dirent, readdirSync, readFileSync } from "node:fs";
import { builtinModules } from "node:module";
import { dirname, join, posix, resolve } from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";

const REPO = resolve(import.meta.dirname, "..");
const WORKSPACE_SCOPE = "@connector-oauth/";
const SCANNED_TOP_LEVEL = ["packages", "functions", "stacks", "test", "bench", "examples"];
const SKIPPED_DIRS = new Set(["node_modules", ".sst", "dist", ".data", "coverage"]);
const SOURCE_FILE = /\.(?:[cm]?ts|[cm]?js|tsx)$/;
const CORE_FORBIDDEN = [/^@aws-sdk\//, /^@smithy\//, /^sst(?:\/|$)/, /^(?:node:)?(?:http|https|http2|net)$/];

/**
 * Violations tolerated for now (empty since the package split, issue 14). Only
 * removals are allowed: a new violation fails the test, and so does an entry that no longer occurs.
 */
const KNOWN_VIOLATIONS: readonly string[] = [];

type Rule =
  | "relative-cross-package"
  | "unexported-subpath"
  | "core-boundary"
  | "undeclared-workspace-dependency"
  | "undeclared-dependency";

interface Violation {
  rule: Rule;
  file: string;
  line: number;
  specifier: string;
  /** For the dependency rules: the package.json that should declare the package. */
  missing?: { manifest: string; name: string };
}

interface Manifest {
  name: string;
  dir: string;
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
  exports: Record<string, unknown> | string | undefined;
}

interface ImportSite {
  specifier: string;
  line: number;
  typeOnly: boolean;
}

interface Tree {
  /** Repository-relative POSIX paths and their text. */
  files: { path: string; text: string }[];
  /** The root manifest (dir "") and each workspace package's manifest. */
  manifests: Manifest[];
}

/** Every module specifier a file names, with whether the import is erased (type-only). */
function importsOf(path: string, text: string): ImportSite[] {
  const source = ts.createSourceFile(path, text, ts.ScriptTarget.Latest, true);
  const sites: ImportSite[] = [];
  const add = (node: ts.Node, literal: ts.Expression | undefined, typeOnly: boolean) => {
    if (!literal || !ts.isStringLiteralLike(literal)) return;
    const line = source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1;
    sites.push({ specifier: literal.text, line, typeOnly });
  };
  const visit = (node: ts.Node) => {
    if (ts.isImportDeclaration(node)) {
      const clause = node.importClause;
      const named = clause?.namedBindings;
      const allTypes =
        clause !== undefined &&
        clause.name === undefined &&
        named !== undefined &&
        ts.isNamedImports(named) &&
        named.elements.length > 0 &&
        named.elements.every((element) => element.isTypeOnly);
      add(node, node.moduleSpecifier, clause?.isTypeOnly === true || allTypes);
    } else if (ts.isExportDeclaration(node)) {
      add(node, node.moduleSpecifier, node.isTypeOnly);
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) {
      add(node, node.argument.literal, true);
    } else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)) {
      add(node, node.moduleReference.expression, node.isTypeOnly);
    } else if (ts.isCallExpression(node)) {
      const callee = node.expression;
      const dynamic = callee.kind === ts.SyntaxKind.ImportKeyword;
      const required = ts.isIdentifier(callee) && callee.text === "require";
      if (dynamic || required) add(node, node.arguments[0], false);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return sites;
}

/** Lines where `process.env` (or `process["env"]`) is read. */
function processEnvLines(path: string, text: string): number[] {
  const source = ts.createSourceFile(path, text, ts.ScriptTarget.Latest, true);
  const lines: number[] = [];
  const isProcess = (node: ts.Expression) =>
    (ts.isIdentifier(node) && node.text === "process") ||
    (ts.isPropertyAccessExpression(node) && node.name.text === "process");
  const visit = (node: ts.Node) => {
    const env =
      (ts.isPropertyAccessExpression(node) && node.name.text === "env" && isProcess(node.expression)) ||
      (ts.isElementAccessExpression(node) &&
        ts.isStringLiteralLike(node.argumentExpression) &&
        node.argumentExpression.text === "env" &&
        isProcess(node.expression));
    if (env) lines.push(source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1);
    ts.forEachChild(node, visit);
  };
  visit(source);
  return lines;
}

/** `@scope/name/sub` -> [`@scope/name`, `./sub`]; `name/sub` -> [`name`, `./sub`]. */
function splitPackage(specifier: string): [string, string] {
  const parts = specifier.split("/");
  const length = specifier.startsWith("@") ? 2 : 1;
  const rest = parts.slice(length).join("/");
  return [parts.slice(0, length).join("/"), rest ? `./${rest}` : "."];
}

/** The package that owns a repository path: the deepest manifest folder containing it. */
function ownerOf(path: string, manifests: Manifest[]): Manifest {
  const owners = manifests.filter((m) => m.dir === "" || path === m.dir || path.startsWith(`${m.dir}/`));
  return owners.reduce((deepest, m) => (m.dir.length > deepest.dir.length ? m : deepest));
}

function exportsSubpath(manifest: Manifest, subpath: string): boolean {
  const { exports } = manifest;
  if (exports === undefined) return subpath === ".";
  if (typeof exports === "string") return subpath === ".";
  return Object.keys(exports).some((key) =>
    key.includes("*") ? subpath.startsWith(key.slice(0, key.indexOf("*"))) : key === subpath,
  );
}

/** Types for `name` come from `@types/name` (`@types/scope__name` for `@scope/name`). */
function typesPackage(name: string): string {
  return `@types/${name.startsWith("@") ? name.slice(1).replace("/", "__") : name}`;
}

const builtins = new Set(builtinModules);

const declared = (m: Manifest, pkg: string) => pkg in m.dependencies || pkg in m.devDependencies;

interface Finding {
  rule: Rule;
  /** The package the owner's package.json should declare (dependency rules only). */
  missing?: string;
}

/** What one import of `path` (owned by `owner`) breaks, if anything. */
function checkImport(tree: Tree, root: Manifest, path: string, owner: Manifest, site: ImportSite): Finding[] {
  const { specifier, typeOnly } = site;
  const findings: Finding[] = [];
  if (path.startsWith("packages/core/src/") && CORE_FORBIDDEN.some((pattern) => pattern.test(specifier))) {
    findings.push({ rule: "core-boundary" });
  }
  if (specifier.startsWith(".") || specifier.startsWith("/")) {
    const target = posix.normalize(posix.join(posix.dirname(path), specifier));
    if (target.startsWith("../") || ownerOf(target, tree.manifests) !== owner) {
      findings.push({ rule: "relative-cross-package" });
    }
    return findings;
  }
  if (specifier.startsWith("node:") || builtins.has(specifier)) return findings;
  const [name, subpath] = splitPackage(specifier);
  if (name.startsWith(WORKSPACE_SCOPE)) {
    if (owner !== root && owner.name !== name && !declared(owner, name)) {
      findings.push({ rule: "undeclared-workspace-dependency", missing: name });
    }
    const workspace = tree.manifests.find((m) => m.name === name);
    if (workspace && !exportsSubpath(workspace, subpath)) findings.push({ rule: "unexported-subpath" });
    return findings;
  }
  const isTest = owner !== root && path.startsWith(`${owner.dir}/test/`);
  const rootServes = owner === root || isTest || typeOnly;
  const ok = [name, typesPackage(name)].some(
    (pkg) => declared(owner, pkg) || (rootServes && pkg in root.devDependencies),
  );
  if (!ok) findings.push({ rule: "undeclared-dependency", missing: name });
  return findings;
}

/** All rule violations of a tree, in file and line order. */
function violationsOf(tree: Tree): Violation[] {
  const root = tree.manifests.find((m) => m.dir === "");
  if (!root) throw new Error("the tree has no root manifest");
  return tree.files.flatMap(({ path, text }) => {
    const owner = ownerOf(path, tree.manifests);
    const manifest = posix.join(owner.dir, "package.json");
    const fromImports = importsOf(path, text).flatMap((site) =>
      checkImport(tree, root, path, owner, site).map(({ rule, missing }) => ({
        rule,
        file: path,
        line: site.line,
        specifier: site.specifier,
        ...(missing && { missing: { manifest, name: missing } }),
      })),
    );
    const envReads = path.startsWith("packages/core/src/") ? processEnvLines(path, text) : [];
    const fromEnv = envReads.map((line) => ({
      rule: "core-boundary" as const,
      file: path,
      line,
      specifier: "process.env",
    }));
    return [...fromImports, ...fromEnv];
  });
}

/** The allowlist key of a violation, at the grain of its fix and without lines (lines move): a
 * missing declaration is one line of one package.json, whichever files import the package. */
function keyOf(v: Violation): string {
  if (v.missing) return `${v.rule}: ${v.missing.manifest} lacks "${v.missing.name}"`;
  return `${v.rule}: ${v.file} imports "${v.specifier}"`;
}

function describeViolation(v: Violation): string {
  const fix = v.missing ? `: declare "${v.missing.name}" in ${v.missing.manifest}` : "";
  const what = v.specifier === "process.env" ? "reads process.env" : `imports "${v.specifier}"`;
  return `${v.file}:${v.line} ${what} (${v.rule})${fix}`;
}

function readManifest(dir: string): Manifest {
  const json = JSON.parse(readFileSync(join(REPO, dir, "package.json"), "utf8")) as Partial<Manifest>;
  return {
    name: json.name ?? dir,
    dir,
    dependencies: json.dependencies ?? {},
    devDependencies: json.devDependencies ?? {},
    exports: json.exports,
  };
}

function sourceFiles(dir: string): string[] {
  let entries: Dirent[];
  try {
    entries = readdirSync(join(REPO, dir), { withFileTypes: true });
  } catch {
    return [];
  }
  return entries.flatMap((entry) => {
    const path = dir ? `${dir}/${entry.name}` : entry.name;
    if (entry.isDirectory()) return SKIPPED_DIRS.has(entry.name) ? [] : sourceFiles(path);
    return SOURCE_FILE.test(entry.name) ? [path] : [];
  });
}

/** The repository as the rules see it: workspace manifests from the root's `workspaces` globs. */
function repositoryTree(): Tree {
  const root = readManifest("");
  const { workspaces = [] } = JSON.parse(readFileSync(join(REPO, "package.json"), "utf8")) as {
    workspaces?: string[];
  };
  const dirs = workspaces.flatMap((glob) =>
    glob.endsWith("/*")
      ? readdirSync(join(REPO, dirname(glob)), { withFileTypes: true })
          .filter((entry) => entry.isDirectory())
          .map((entry) => `${dirname(glob)}/${entry.name}`)
      : [glob],
  );
  const manifests = [root, ...dirs.filter((dir) => sourceFiles(dir).length > 0).map(readManifest)];
  const rootFiles = readdirSync(REPO, { withFileTypes: true })
    .filter((entry) => entry.isFile() && SOURCE_FILE.test(entry.name) && !entry.name.endsWith(".d.ts"))
    .map((entry) => entry.name);
  const paths = [...rootFiles, ...SCANNED_TOP_LEVEL.flatMap(sourceFiles)].sort();
  const files = paths.map((path) => ({ path, text: readFileSync(join(REPO, path), "utf8") }));
  return { files, manifests };
}

describe("architecture", () => {
  let scanned: Violation[] | undefined;
  const repositoryViolations = () => {
    scanned ??= violationsOf(repositoryTree());
    return scanned;
  };
  const manifest = (dir: string, extra: Partial<Manifest> = {}): Manifest => ({
    name: dir ? `${WORKSPACE_SCOPE}${dir.split("/").pop()}` : "root",
    dir,
    dependencies: {},
    devDependencies: {},
    exports: { ".": "./src/index.ts" },
    ...extra,
  });
  const manifests = [
    manifest("", { devDependencies: { vitest: "4", "@types/aws-lambda": "8" } }),
    manifest("packages/core", { dependencies: { jose: "6" } }),
    manifest("packages/aws", { dependencies: { "@aws-sdk/client-kms": "3", "@connector-oauth/core": "*" } }),
    manifest("functions", { dependencies: { "@connector-oauth/aws": "*" } }),
  ];
  const check = (path: string, text: string) =>
    violationsOf({ files: [{ path, text }], manifests }).map(describeViolation);

  it("reports a relative import into another package's folder, with file, line, import and rule", () => {
    expect(check("functions/src/a.ts", `\nimport { x } from "../../packages/core/src/x.ts";`)).toEqual([
      'functions/src/a.ts:2 imports "../../packages/core/src/x.ts" (relative-cross-package)',
    ]);
    expect(check("bench/a.ts", `await import("../functions/src/authorize.ts");`)).toEqual([
      'bench/a.ts:1 imports "../functions/src/authorize.ts" (relative-cross-package)',
    ]);
    expect(check("packages/core/test/a.ts", `export * from "../src/x.ts";`)).toEqual([]);
  });

  it("reports a workspace import by a subpath the package does not export", () => {
    expect(check("functions/src/a.ts", `import "@connector-oauth/aws/src/kms.ts";`)).toEqual([
      'functions/src/a.ts:1 imports "@connector-oauth/aws/src/kms.ts" (unexported-subpath)',
    ]);
  });

  it("reports the AWS SDK, Smithy, SST, an HTTP or socket module and process.env in the core", () => {
    const text = [
      `import { KMSClient } from "@aws-sdk/client-kms";`,
      `import type { HttpRequest } from "@smithy/types";`,
      `import { Resource } from "sst";`,
      `import { createServer } from "node:http";`,
      `import { request } from "node:https";`,
      `import { connect } from "node:net";`,
      `export const region = process.env.AWS_REGION;`,
    ].join("\n");
    expect(check("packages/core/src/a.ts", text).filter((line) => line.endsWith("(core-boundary)"))).toEqual([
      'packages/core/src/a.ts:1 imports "@aws-sdk/client-kms" (core-boundary)',
      'packages/core/src/a.ts:2 imports "@smithy/types" (core-boundary)',
      'packages/core/src/a.ts:3 imports "sst" (core-boundary)',
      'packages/core/src/a.ts:4 imports "node:http" (core-boundary)',
      'packages/core/src/a.ts:5 imports "node:https" (core-boundary)',
      'packages/core/src/a.ts:6 imports "node:net" (core-boundary)',
      "packages/core/src/a.ts:7 reads process.env (core-boundary)",
    ]);
    expect(check("packages/aws/src/a.ts", `import "@aws-sdk/client-kms"; process.env.X;`)).toEqual([]);
  });

  it("reports workspace and npm imports the package's manifest does not declare", () => {
    expect(check("functions/src/a.ts", `import { x } from "@connector-oauth/core";`)).toEqual([
      'functions/src/a.ts:1 imports "@connector-oauth/core" (undeclared-workspace-dependency): declare "@connector-oauth/core" in functions/package.json',
    ]);
    expect(check("packages/core/src/a.ts", `import { y } from "oauth4webapi";`)).toEqual([
      'packages/core/src/a.ts:1 imports "oauth4webapi" (undeclared-dependency): declare "oauth4webapi" in packages/core/package.json',
    ]);
    // The root devDependencies serve tests and type-only imports, not a package's runtime code.
    expect(check("packages/core/src/a.ts", `import { vi } from "vitest";`)).toEqual([
      'packages/core/src/a.ts:1 imports "vitest" (undeclared-dependency): declare "vitest" in packages/core/package.json',
    ]);
    expect(check("packages/core/test/a.ts", `import { vi } from "vitest";`)).toEqual([]);
    expect(check("functions/src/a.ts", `import type { Context } from "aws-lambda";`)).toEqual([]);
    expect(check("packages/aws/src/a.ts", `import { fail } from "@connector-oauth/core";`)).toEqual([]);
    expect(check("test/a.ts", `import { x } from "@connector-oauth/aws"; import "node:fs";`)).toEqual([]);
  });

  it("finds no violation in the repository beyond the known ones", () => {
    expect(repositoryTree().files.length).toBeGreaterThan(100);
    const known = new Set(KNOWN_VIOLATIONS);
    const fresh = repositoryViolations().filter((v) => !known.has(keyOf(v)));
    expect(fresh.map(describeViolation)).toEqual([]);
  });

  it("lists no known violation that no longer occurs (the allowlist only shrinks)", () => {
    const current = new Set(repositoryViolations().map(keyOf));
    expect(KNOWN_VIOLATIONS.filter((key) => !current.has(key))).toEqual([]);
  });
});
