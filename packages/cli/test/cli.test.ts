/**
 * The operator CLI against the local services (dynalite, local KMS) through the AWS SDK settings
 * it would get from any shell: put, list, delete, token, and bad input that must change nothing.
 */
import { spawnSync } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { ScanCommand } from "@aws-sdk/client-dynamodb";
import { dynamoConnectorStore, kmsDataKeys } from "@connector-oauth/aws";
import { callerVerifier, openClientSecret } from "@connector-oauth/core";
import { DATA_KEY_ALIAS, type LocalServices, startLocalServices } from "@connector-oauth/local";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { runCli } from "../src/cli.ts";

const REPO = resolve(import.meta.dirname, "../../..");
const SECRET = "cli-test-secret-0123456789";
const CLIENT_SECRET = "GOCSPX-plaintext-client-secret";

const drive = {
  connectorId: "drive-acme",
  orgId: "acme",
  provider: "google-drive",
  scope: "team",
  createdBy: "alice",
  clientId: "cid.apps.googleusercontent.com",
  clientSecret: CLIENT_SECRET,
};
const custom = {
  connectorId: "custom-1",
  orgId: "acme",
  provider: "oauth2",
  scope: "personal",
  createdBy: "bob",
  clientId: "custom-client",
  clientSecret: "custom-secret",
  scopes: ["read"],
  endpoints: {
    authorizationUrl: "https://idp.example.com/authorize",
    tokenUrl: "https://idp.example.com/token",
  },
};

describe("cli", () => {
  let services: LocalServices;
  let dir: string;
  let out: string[];
  let err: string[];
  let env: Record<string, string>;

  const run = (...argv: string[]) =>
    runCli(argv, { env, cwd: dir, out: (line) => out.push(line), err: (line) => err.push(line) });
  const file = async (name: string, content: unknown) => {
    await writeFile(join(dir, name), typeof content === "string" ? content : JSON.stringify(content));
    return name;
  };
  const tableItems = async () =>
    (await services.dynamo.send(new ScanCommand({ TableName: services.tableName }))).Items ?? [];

  beforeAll(async () => {
    services = await startLocalServices();
    dir = await mkdtemp(join(tmpdir(), "connector-oauth-cli-"));
    // What an operator's shell would hold; the data key by alias, as for a deployed stage.
    env = { ...services.env, DATA_KEY_ID: DATA_KEY_ALIAS, AUTH_HS256_SECRET: SECRET };
  });

  afterAll(async () => {
    await services?.close();
    await rm(dir, { recursive: true, force: true });
  });

  beforeEach(async () => {
    out = [];
    err = [];
    const store = dynamoConnectorStore(services.dynamo, services.tableName);
    for (const c of await store.list("acme")) await store.delete("acme", c.connectorId);
  });

  it("puts connectors with their client secrets sealed, and updates them in place", async () => {
    expect(await run("put", await file("defs.json", [drive, custom]), "--by", "ops")).toBe(0);
    expect(out).toEqual([
      "saved drive-acme (org acme, google-drive): not_connected, version 1",
      "saved custom-1 (org acme, oauth2): not_connected, version 1",
    ]);
    expect(JSON.stringify(await tableItems())).not.toContain(CLIENT_SECRET);
    const stored = await dynamoConnectorStore(services.dynamo, services.tableName).get("acme", "drive-acme");
    expect(stored).toMatchObject({ lastUpdatedBy: "ops", clientId: drive.clientId });
    const keys = kmsDataKeys(services.kms, services.dataKeyId);
    expect(await openClientSecret(keys, stored as NonNullable<typeof stored>)).toBe(CLIENT_SECRET);

    out = [];
    expect(await run("put", await file("update.json", [{ ...drive, scopes: ["openid"] }]))).toBe(0);
    expect(out).toEqual(["saved drive-acme (org acme, google-drive): not_connected, version 2"]);
  });

  it("lists an org's connectors with their status and never a secret", async () => {
    await run("put", await file("defs.json", [drive, custom]));
    out = [];
    expect(await run("list", "--org", "acme")).toBe(0);
    expect(out[0]).toMatch(
      /^CONNECTOR\s+PROVIDER\s+SCOPE\s+STATUS\s+ACCOUNT\s+TOKEN EXPIRES\s+UPDATED\s+BY$/,
    );
    expect(out.slice(1).map((line) => line.split(/\s+/).slice(0, 4))).toEqual([
      ["custom-1", "oauth2", "personal", "not_connected"],
      ["drive-acme", "google-drive", "team", "not_connected"],
    ]);
    out = [];
    expect(await run("list", "--org", "acme", "--json")).toBe(0);
    const listed = JSON.parse(out.join("\n"));
    expect(listed).toMatchObject([{ _id: "custom-1", isAuthenticated: false }, { _id: "drive-acme" }]);
    expect(out.join("\n")).not.toMatch(/clientSecret|custom-secret|GOCSPX|ciphertext/i);
    out = [];
    expect(await run("list", "--org", "nobody")).toBe(0);
    expect(out).toEqual(["No connectors in org nobody."]);
  });

  it("deletes a connector, and says so when there is none", async () => {
    await run("put", await file("defs.json", [drive, custom]));
    expect(await run("delete", "drive-acme", "--org", "acme")).toBe(0);
    expect(out.at(-1)).toBe("deleted drive-acme (org acme)");
    expect(await run("delete", "drive-acme", "--org", "acme")).toBe(1);
    expect(err).toEqual(["connector-oauth: no connector drive-acme in org acme; nothing deleted"]);
    const left = await dynamoConnectorStore(services.dynamo, services.tableName).list("acme");
    expect(left.map((c) => c.connectorId)).toEqual(["custom-1"]);
  });

  it("mints a dev JWT the handlers' verifier accepts", async () => {
    expect(
      await run("token", "--org", "acme", "--user", "alice", "--email", "alice@acme.test", "--ttl", "1h"),
    ).toBe(0);
    const caller = await callerVerifier({ hs256Secret: SECRET })(`Bearer ${out[0]}`);
    expect(caller).toEqual({ userId: "alice", orgId: "acme", email: "alice@acme.test", isAdmin: true });
    out = [];
    await run("token", "--org", "acme", "--member");
    expect((await callerVerifier({ hs256Secret: SECRET })(`Bearer ${out[0]}`)).isAdmin).toBe(false);
  });

  it.each([
    [
      "an invalid definition",
      [drive, { ...custom, scope: "everyone" }],
      /custom-1.*"scope" must be team or personal/,
    ],
    [
      "an unknown provider",
      [{ ...drive, provider: "myspace" }],
      /connector "drive-acme": unknown provider "myspace"; the providers are listed in docs\/providers.md/,
    ],
    [
      "a misspelt provider",
      [{ ...drive, provider: "google-driv" }],
      /unknown provider "google-driv"; did you mean google-drive\?/,
    ],
    [
      "http endpoints outside local mode",
      [{ ...custom, endpoints: { ...custom.endpoints, tokenUrl: "http://127.0.0.1/t" } }],
      /https/,
    ],
    ["not an array", { connectorId: "x" }, /JSON array/],
    ["broken JSON", "[{", /not valid JSON/],
  ])("rejects %s and writes nothing", async (_, content, message) => {
    expect(await run("put", await file("bad.json", content))).toBe(1);
    expect(err).toHaveLength(1);
    expect(err[0]).toMatch(message);
    expect(err[0]).toContain("bad.json");
    expect(await tableItems()).toHaveLength(0);
  });

  it("reports a connectors file with a syntax error by line and column, never a fragment of it", async () => {
    // A missing comma right after the client secret: JSON.parse's own message quotes this part.
    const text = `[\n  {\n    "connectorId": "drive-acme",\n    "clientSecret": "${CLIENT_SECRET}"\n    "orgId": "acme"\n  }\n]\n`;
    expect(await run("put", await file("broken.json", text))).toBe(1);
    expect(err).toEqual([expect.stringMatching(/broken\.json: .*syntax error at line 5, column 5$/)]);
    expect(err.join("\n")).not.toContain("GOCSPX");
    expect(err.join("\n")).not.toContain("orgId");
    expect(await tableItems()).toHaveLength(0);
  });

  it.each([
    "https://169.254.169.254/latest",
    "https://10.0.0.8/token",
    "https://[fd00::1]/token",
    "https://0x7f.1/token",
    "https://metadata/token",
  ])("refuses a custom token endpoint on an internal address (%s) and writes nothing", async (tokenUrl) => {
    const bad = [{ ...custom, endpoints: { ...custom.endpoints, tokenUrl } }];
    expect(await run("put", await file("internal.json", bad))).toBe(1);
    expect(err.join("\n")).toMatch(/must name a public host, not an IP address/);
    expect(await tableItems()).toHaveLength(0);
  });

  it.each([
    [["list"], /list needs --org/],
    [["delete", "--org", "acme"], /delete needs a connector id/],
    [["put"], /put needs a definitions file/],
    [["frobnicate"], /unknown command "frobnicate"/],
    [["list", "--org", "acme", "--colour"], /Unknown option '--colour'/],
    [["token", "--org", "acme", "--ttl", "soon"], /--ttl must be a lifetime from 1m to 30d/],
    [["token", "--org", "acme", "--ttl", "59s"], /--ttl must be a lifetime from 1m to 30d/],
    [["token", "--org", "acme", "--ttl", "31d"], /--ttl must be a lifetime from 1m to 30d/],
  ])("answers %j with a usage error (exit 2)", async (argv, message) => {
    expect(await run(...argv)).toBe(2);
    expect(err.join("\n")).toMatch(message);
    expect(out).toEqual([]);
  });

  it.each([
    [
      ["list", "extra", "--org", "acme"],
      /^connector-oauth list: list takes no arguments; unexpected "extra"$/,
    ],
    [
      ["delete", "a", "b", "--org", "acme"],
      /^connector-oauth delete: delete takes <connectorId>; unexpected "b"$/,
    ],
    [["token", "--org", "acme", "--json"], /^connector-oauth token: token has no --json output$/],
    [
      ["list", "--org"],
      /^connector-oauth: Option '--org <value>' argument missing \(try connector-oauth --help\)$/,
    ],
  ])("refuses %j in one line (exit 2)", async (argv, message) => {
    expect(await run(...argv)).toBe(2);
    expect(err).toHaveLength(1);
    expect(err[0]).toMatch(message);
  });

  it("prints its version and one command's help", async () => {
    expect(await run("--version")).toBe(0);
    expect(out).toEqual(["0.1.0"]);
    out.length = 0;
    expect(await run("disconnect", "--help")).toBe(0);
    expect(out.join("\n")).toMatch(
      /^Usage: connector-oauth disconnect <connectorId> --org <orgId>\n\s+Revoke/,
    );
    expect(out.join("\n")).not.toMatch(/Commands:|put <file/);
  });

  it("says an empty file holds no connectors", async () => {
    expect(await run("put", await file("empty.json", []))).toBe(2);
    expect(err).toEqual([
      "connector-oauth put: empty.json holds no connectors (an empty array); nothing saved",
    ]);
  });

  it("names the connector and org it did not find, and a missing table as such", async () => {
    expect(await run("access-token", "nope", "--org", "acme")).toBe(1);
    expect(err).toEqual(["connector-oauth access-token: no connector nope in org acme"]);
    err.length = 0;
    expect(await run("list", "--org", "acme", "--table", "no-such-table")).toBe(1);
    expect(err[0]).toMatch(/^connector-oauth list: table no-such-table does not exist there/);
  });

  it("disconnects a never-connected connector as a no-op that leaves its status alone", async () => {
    await run("put", await file("defs.json", [drive]));
    out.length = 0;
    expect(await run("disconnect", "drive-acme", "--org", "acme")).toBe(0);
    expect(out).toEqual(["drive-acme (org acme) was never connected: nothing to disconnect"]);
    const stored = await dynamoConnectorStore(services.dynamo, services.tableName).get("acme", "drive-acme");
    expect(stored?.status).toBe("not_connected");
  });

  it("names what is missing when the target is not configured", async () => {
    env = { ...env, TABLE_NAME: "" };
    try {
      expect(await run("list", "--org", "acme")).toBe(2);
      expect(err).toEqual(["connector-oauth list: Set TABLE_NAME or --table (or use --local)"]);
    } finally {
      env = { ...env, TABLE_NAME: services.tableName };
    }
  });

  it("reports unreachable services in one line", async () => {
    const down = { ...env, AWS_ENDPOINT_URL_DYNAMODB: "http://127.0.0.1:9" };
    const code = await runCli(["list", "--org", "acme"], {
      env: down,
      cwd: dir,
      out: (l) => out.push(l),
      err: (l) => err.push(l),
    });
    expect(code).toBe(1);
    expect(err).toHaveLength(1);
    expect(err[0]).toMatch(/^connector-oauth list: The database is unavailable .*ECONNREFUSED/);
  });

  it("runs as the connector-oauth bin", () => {
    const bin = join(REPO, "packages/cli/bin/connector-oauth.js");
    const result = spawnSync(process.execPath, [bin, "token", "--org", "acme"], {
      cwd: REPO,
      env: { ...process.env, AUTH_HS256_SECRET: SECRET },
      encoding: "utf8",
    });
    expect(result.status).toBe(0);
    expect(result.stdout.trim()).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
  });
});
