/**
 * `npm start` as a user runs it: a child process on free ports with a temporary DATA_DIR. It
 * answers, completes a connect, keeps its data across a restart, and stops cleanly on SIGINT and
 * SIGTERM. Bad configuration ends startup with one line naming the problem.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { connect, createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { loginAtProvider } from "@connector-oauth/test-kit";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { mintDevToken } from "../src/config.ts";

const REPO = resolve(import.meta.dirname, "../../..");
const STARTUP_MS = 20_000;
/** How long a stop may take: `docker stop`'s default grace period before it sends SIGKILL. Measured
 * stops take a fraction of it (the figure is recorded as a test annotation); the bound only catches
 * a shutdown that hangs, not a slow machine. */
const STOP_GRACE_MS = 10_000;

interface Started {
  child: ChildProcess;
  output: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

async function freePorts(count: number): Promise<number[]> {
  const servers: Server[] = [];
  for (let i = 0; i < count; i++) {
    const server = createServer();
    await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
    servers.push(server);
  }
  const ports = servers.map((server) => (server.address() as { port: number }).port);
  await Promise.all(servers.map((server) => new Promise((done) => server.close(done))));
  return ports;
}

/** Spawns the command in its own process group, as a terminal runs a foreground job. */
function launch(command: string, args: string[], env: Record<string, string>): Started {
  const child = spawn(command, args, { cwd: REPO, env: { ...process.env, ...env }, detached: true });
  let text = "";
  child.stdout?.on("data", (chunk) => (text += chunk));
  child.stderr?.on("data", (chunk) => (text += chunk));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) =>
    child.once("exit", (code, signal) => done({ code, signal })),
  );
  return { child, output: () => text, exited };
}

async function untilReady(started: Started): Promise<{ token: string; readyMs: number }> {
  const deadline = Date.now() + STARTUP_MS;
  while (Date.now() < deadline) {
    const text = started.output();
    const token = /Dev admin token[^\n]*\n\s+(\S+)/.exec(text)?.[1];
    const readyMs = /ready in (\d+) ms/.exec(text)?.[1];
    if (token && readyMs) return { token, readyMs: Number(readyMs) };
    if (started.child.exitCode !== null) break;
    await new Promise((done) => setTimeout(done, 25));
  }
  throw new Error(`local mode did not start:\n${started.output()}`);
}

function groupAlive(pid: number): boolean {
  try {
    process.kill(-pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Ctrl-C, or a supervisor's stop: the signal goes to the whole process group (npm, sh, tsx,
 * node). `ms` runs until local mode reported its stop and npm exited; `leftovers` says whether any
 * process of the group is still there a while later (orphans are reaped by init, not by us). */
async function stop(started: Started, signal: NodeJS.Signals) {
  const pid = started.child.pid as number;
  const at = performance.now();
  process.kill(-pid, signal);
  await started.exited;
  while (!started.output().includes(`${signal}: stopped`) && performance.now() - at < 5_000) {
    await new Promise((done) => setTimeout(done, 5));
  }
  const ms = performance.now() - at;
  while (groupAlive(pid) && performance.now() - at < 10_000)
    await new Promise((done) => setTimeout(done, 20));
  return { ms, leftovers: groupAlive(pid) };
}

/** True when a TCP connection to 127.0.0.1:`port` is accepted. */
function accepts(port: number): Promise<boolean> {
  return new Promise((done) => {
    const socket = connect(port, "127.0.0.1");
    socket.once("connect", () => {
      socket.destroy();
      done(true);
    });
    socket.once("error", () => done(false));
  });
}

async function portsFree(ports: number[]): Promise<boolean> {
  try {
    await Promise.all(
      ports.map(
        (port) =>
          new Promise<void>((done, fail) => {
            const server = createServer().once("error", fail);
            server.listen(port, "127.0.0.1", () => server.close(() => done()));
          }),
      ),
    );
    return true;
  } catch {
    return false;
  }
}

describe("npm start", () => {
  let dataDir: string;
  let ports: number[];
  let env: Record<string, string>;
  let api: string;
  const running: Started[] = [];

  const launchStart = (extra: Record<string, string> = {}) => {
    const started = launch("npm", ["start"], { ...env, ...extra });
    running.push(started);
    return started;
  };
  const bearer = (token: string) => ({ headers: { authorization: `Bearer ${token}` } });

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), "connector-oauth-start-"));
    ports = await freePorts(4);
    const [port, provider, dynamodb, kms] = ports.map(String) as [string, string, string, string];
    env = {
      PORT: port,
      DEMO_PROVIDER_PORT: provider,
      DYNAMODB_PORT: dynamodb,
      KMS_PORT: kms,
      DATA_DIR: dataDir,
    };
    api = `http://localhost:${port}`;
  });

  afterEach(() => {
    // A failed assertion must not leave a server behind: stop whatever is still running, by group.
    for (const started of running.splice(0)) {
      if (groupAlive(started.child.pid as number)) process.kill(-(started.child.pid as number), "SIGKILL");
    }
  });

  afterAll(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it("answers, connects, keeps its data across a restart and stops on SIGINT and SIGTERM", async ({
    annotate,
  }) => {
    const spawnedAt = performance.now();
    const first = launchStart();
    const { token } = await untilReady(first);
    const page = await fetch(`${api}/`);
    const firstAnswerMs = performance.now() - spawnedAt;
    expect(page.status).toBe(200);
    expect(await page.text()).toContain("connector-oauth");
    for (const url of [
      api,
      `http://127.0.0.1:${ports[2]}`,
      `http://127.0.0.1:${ports[3]}`,
      `http://127.0.0.1:${ports[1]}`,
    ]) {
      expect(first.output()).toContain(url);
    }

    const authorize = await fetch(`${api}/connectors/demo/oauth/authorize`, bearer(token));
    expect(authorize.status).toBe(200);
    const { authorizationUrl } = (await authorize.json()) as { authorizationUrl: string };
    const callback = await loginAtProvider(authorizationUrl, "alice", `${api}/connectors/oauth/callback`);
    const landed = await fetch(callback, { redirect: "manual" });
    expect(landed.headers.get("location")).toBe(`${api}/demo/connected/demo`);

    const interrupted = await stop(first, "SIGINT");
    expect(interrupted.leftovers).toBe(false);
    expect(first.output()).toMatch(/SIGINT: stopped in \d+ ms/);
    expect(await portsFree(ports)).toBe(true);

    // Restart, this time also loading a connectors file.
    const connectorsFile = join(dataDir, "connectors.json");
    const drive = {
      connectorId: "drive",
      orgId: "demo",
      provider: "google-drive",
      scope: "team",
      createdBy: "dev-admin",
    };
    await writeFile(connectorsFile, JSON.stringify([{ ...drive, clientId: "id", clientSecret: "secret" }]));
    const second = launchStart({ CONNECTORS_FILE: connectorsFile });
    const again = await untilReady(second);
    const status = await fetch(`${api}/demo/api/connectors`, bearer(again.token));
    const listed = (await status.json()) as { connectors: { _id: string; status: string }[] };
    expect(listed.connectors).toMatchObject([
      { _id: "demo", status: "authenticated" },
      { _id: "drive", status: "not_connected" },
    ]);
    // The generated auth secret was kept: a token from the first run still works.
    expect((await fetch(`${api}/demo/api/connectors`, bearer(token))).status).toBe(200);

    const terminated = await stop(second, "SIGTERM");
    expect(terminated.leftovers).toBe(false);
    expect(second.output()).toMatch(/SIGTERM: stopped in \d+ ms/);
    expect(await portsFree(ports)).toBe(true);
    await annotate(
      `npm start: first answer ${Math.round(firstAnswerMs)} ms after spawn (restart ready in ${again.readyMs} ms in-process); ` +
        `SIGINT exit ${Math.round(interrupted.ms)} ms, SIGTERM exit ${Math.round(terminated.ms)} ms`,
    );
    expect(terminated.ms).toBeLessThan(STOP_GRACE_MS);
  });

  it("answers every request for real from the first accepted connection on", async ({ annotate }) => {
    const secret = "a-test-secret-of-enough-length";
    const devToken = await mintDevToken(secret, { sub: "dev-admin", orgId: "demo", admin: true });
    const spawnedAt = performance.now();
    const started = launchStart({ AUTH_HS256_SECRET: secret, DATA_DIR: join(dataDir, "ready") });
    const port = Number(env.PORT);
    while (!(await accepts(port))) {
      if (started.child.exitCode !== null || performance.now() - spawnedAt > STARTUP_MS)
        throw new Error(`no connection accepted:\n${started.output()}`);
    }
    // A burst the moment the port accepts, then one request at a time until the banner is out.
    const authorize = () =>
      fetch(`${api}/connectors/demo/oauth/authorize`, bearer(devToken)).then(async (response) => ({
        status: response.status,
        body: (await response.json()) as { authorizationUrl?: string },
        at: performance.now(),
      }));
    const answers = await Promise.all(Array.from({ length: 10 }, authorize));
    while (!started.output().includes("ready in")) answers.push(await authorize());
    for (const answer of answers) {
      expect(answer.status).toBe(200);
      expect(answer.body.authorizationUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/auth\?/);
    }
    // Quiet start: the banner and nothing else (no third-party advice, no log lines).
    expect(started.output()).not.toMatch(/oidc-provider|WARN|"level"/);
    expect(started.output().trimStart()).toMatch(
      /^> connector-oauth@[\d.]+ start\n> exec tsx packages\/local\/src\/start.ts\n\nconnector-oauth local mode ready in/,
    );
    const firstMs = Math.min(...answers.map((answer) => answer.at)) - spawnedAt;
    await annotate(`npm start: first successful authorize ${Math.round(firstMs)} ms after spawn`);
    await stop(started, "SIGTERM");
  });

  describe("bad configuration", () => {
    const failsWith = async (extra: Record<string, string>) => {
      const started = launch(join(REPO, "node_modules/.bin/tsx"), ["packages/local/src/start.ts"], {
        ...env,
        ...extra,
      });
      running.push(started);
      const { code } = await started.exited;
      const lines = started.output().split("\n").filter(Boolean);
      return { code, lines };
    };

    it.each([
      [
        "a bad app origin",
        { APP_ORIGINS: "http://localhost:5173/app" },
        /APP_ORIGINS entry "http:\/\/localhost:5173\/app" must be an exact origin/,
      ],
      [
        "an app origin without a scheme",
        { APP_ORIGINS: "http://localhost:5173,localhost:8080" },
        /APP_ORIGINS entry "localhost:8080" has no scheme/,
      ],
      [
        "an app origin in capitals",
        { APP_ORIGINS: "HTTPS://App.Example.com" },
        /APP_ORIGINS entry "HTTPS:\/\/App.Example.com" must be lower case, as browsers send it: https:\/\/app.example.com/,
      ],
      [
        "two servers on one port",
        { KMS_PORT: "PORT" },
        /PORT and KMS_PORT are both \d+: each local server needs its own port/,
      ],
      [
        "a dev token lifetime out of bounds",
        { DEV_TOKEN_TTL: "90d" },
        /DEV_TOKEN_TTL must be a lifetime from 1m to 30d/,
      ],
      [
        "an insecure public API URL",
        { PUBLIC_API_URL: "http://api.example.com" },
        /PUBLIC_API_URL must use https/,
      ],
      ["a port that is not a number", { KMS_PORT: "kms" }, /KMS_PORT must be a port number/],
      [
        "a missing connectors file",
        { CONNECTORS_FILE: "/nonexistent/connectors.json" },
        /connectors.json: cannot read the connectors file \(ENOENT\)/,
      ],
      [
        "a short auth secret",
        { AUTH_HS256_SECRET: "short" },
        /AUTH_HS256_SECRET must be at least 16 characters/,
      ],
    ])("stops on %s with one line naming it", async (_, extra, message) => {
      const same = Object.entries(extra).map(([name, value]) => [name, value === "PORT" ? env.PORT : value]);
      const { code, lines } = await failsWith(Object.fromEntries(same));
      expect(code).toBe(1);
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/^connector-oauth local mode: configuration error: /);
      expect(lines[0]).toMatch(message);
    });

    it("names an invalid connector in the connectors file", async () => {
      const file = join(dataDir, "bad-connectors.json");
      await writeFile(
        file,
        JSON.stringify([{ connectorId: "x", orgId: "acme", provider: "oauth2", scope: "team" }]),
      );
      const { code, lines } = await failsWith({ CONNECTORS_FILE: file });
      expect(code).toBe(1);
      expect(lines).toEqual([
        `connector-oauth local mode: configuration error: ${file}: connector "x": "createdBy" must match [A-Za-z0-9][A-Za-z0-9._:-]{0,127}`,
      ]);
    });

    it("reports a connectors file with a syntax error by line and column, never a fragment of it", async () => {
      const file = join(dataDir, "broken-connectors.json");
      await writeFile(
        file,
        '[{"connectorId": "x", "clientSecret": "s3cr3t-fragment-value" "orgId": "acme"}]',
      );
      const { code, lines } = await failsWith({ CONNECTORS_FILE: file });
      expect(code).toBe(1);
      expect(lines).toEqual([
        `connector-oauth local mode: configuration error: ${file}: the connectors file is not valid JSON: syntax error at line 1, column 63`,
      ]);
    });

    it("names the port that is already in use", async () => {
      const blocker = createServer();
      await new Promise<void>((done) => blocker.listen(Number(env.DYNAMODB_PORT), "127.0.0.1", done));
      try {
        const { code, lines } = await failsWith({});
        expect(code).toBe(1);
        expect(lines).toEqual([
          `connector-oauth local mode: configuration error: DYNAMODB_PORT ${env.DYNAMODB_PORT} is already in use (set DYNAMODB_PORT to a free port)`,
        ]);
      } finally {
        await new Promise((done) => blocker.close(done));
      }
    });
  });
});
