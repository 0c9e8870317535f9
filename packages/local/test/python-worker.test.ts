/**
 * The Python sync worker example (examples/python-worker/worker.py) end to end against local mode
 * (`npm start`'s startLocalMode): the demo connector is connected through the demo provider's login,
 * then the script, run with /usr/bin/python3 and Debian's python3-botocore, signs its token API call
 * with the data folder's local credentials and shows who the token belongs to at the provider.
 */
import { spawn, spawnSync } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { dynamoConnectorStore, kmsDataKeys } from "@connector-oauth/aws";
import { openTokenSet } from "@connector-oauth/core";
import { loginAtProvider } from "@connector-oauth/test-kit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadLocalConfig } from "../src/config.ts";
import { LOCAL_REGION, readLocalCredentials } from "../src/services.ts";
import { DEMO_CONNECTOR, DEMO_ORG, type LocalMode, startLocalMode } from "../src/start.ts";

const WORKER = join(import.meta.dirname, "../../../examples/python-worker/worker.py");
const PYTHON = "/usr/bin/python3";
// Like the browser test's Chromium: a machine without Debian's python3-botocore skips this with a
// note; `.ci/run` installs it, so CI always runs it.
const hasBotocore = spawnSync(PYTHON, ["-c", "import botocore"]).status === 0;
if (!hasBotocore)
  console.log(`python worker test skipped: no botocore for ${PYTHON} (apt-get install python3-botocore)`);

let dataDir: string;
let local: LocalMode;

/** Runs the worker with only the settings given (no AWS profile or shell credentials leak in). */
function runWorker(env: Record<string, string>, args = ["--org", DEMO_ORG, "--connector", DEMO_CONNECTOR]) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    const child = spawn(PYTHON, [WORKER, ...args], {
      env: { PATH: "/usr/bin:/bin", HOME: dataDir, AWS_CONFIG_FILE: "/dev/null", ...env },
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => (stdout += chunk));
    child.stderr.on("data", (chunk) => (stderr += chunk));
    child.on("error", reject).on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

async function workerEnv(overrides: Record<string, string> = {}) {
  const credentials = await readLocalCredentials(dataDir);
  return {
    TOKEN_API_URL: local.apiUrl,
    USERINFO_URL: `${local.providerUrl}/me`,
    AWS_REGION: LOCAL_REGION,
    AWS_ACCESS_KEY_ID: credentials?.accessKeyId ?? "",
    AWS_SECRET_ACCESS_KEY: credentials?.secretAccessKey ?? "",
    AWS_SHARED_CREDENTIALS_FILE: "/dev/null",
    ...overrides,
  };
}

beforeAll(async () => {
  if (!hasBotocore) return;
  dataDir = await mkdtemp(join(tmpdir(), "connector-oauth-python-"));
  local = await startLocalMode(await loadLocalConfig({ PORT: "0", DATA_DIR: dataDir }));
});

afterAll(async () => {
  await local?.close();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

describe.skipIf(!hasBotocore)("examples/python-worker", () => {
  it("answers not_connected before anyone connected the demo connector", async () => {
    const run = await runWorker(await workerEnv());
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("409 not_connected");
  });

  it("gets the connected demo connector's token with botocore's SigV4 and is who signed in at the provider", async () => {
    const started = await fetch(`${local.publicApiUrl}/connectors/${DEMO_CONNECTOR}/oauth/authorize`, {
      headers: { authorization: `Bearer ${local.devToken}` },
    });
    const { authorizationUrl } = (await started.json()) as { authorizationUrl: string };
    const callback = await loginAtProvider(
      authorizationUrl,
      "alice",
      `${local.publicApiUrl}/connectors/oauth/callback`,
    );
    const done = await fetch(callback, { redirect: "manual" });
    expect(done.headers.get("location")).not.toContain("oauth_error");

    const run = await runWorker(await workerEnv());
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(
      new RegExp(`^connector ${DEMO_CONNECTOR} \\(org ${DEMO_ORG}\\): bearer token, expires \\d{4}-`),
    );
    expect(run.stdout).toContain("provider says: signed in as alice (alice@example.com)");
    // Never the token.
    const { services } = local;
    const record = await dynamoConnectorStore(services.dynamo, services.tableName).get(
      DEMO_ORG,
      DEMO_CONNECTOR,
    );
    const dataKeys = kmsDataKeys(services.kms, services.dataKeyId);
    const { accessToken } = await openTokenSet(dataKeys, record as NonNullable<typeof record>);
    expect(run.stdout).not.toContain(accessToken);
  });

  it("is refused with 403 forbidden when it signs with credentials other than the local ones", async () => {
    const run = await runWorker(await workerEnv({ AWS_SECRET_ACCESS_KEY: "not-the-local-secret" }));
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("403 forbidden");
    expect(run.stdout).toBe("");
  });
});
