/**
 * The operator CLI, `npx connector-oauth <command>`: put connector definitions (client secrets
 * sealed with KMS before they are stored), list an org's connectors with their status (never a
 * secret), delete a connector, mint a dev JWT. It talks to whatever the AWS SDK is configured for
 * (AWS_REGION, credentials, AWS_ENDPOINT_URL_DYNAMODB / _KMS), or with --local to `npm start`'s
 * services. This is its own composition root: it builds the two clients and wires the adapters.
 */
import { readFileSync } from "node:fs";
import { hostname, userInfo } from "node:os";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { KMSClient } from "@aws-sdk/client-kms";
import { awsTokenAccess, dynamoConnectorStore, kmsDataKeys } from "@connector-oauth/aws";
import { ConfigError, type Env, flagSetting, optionalSetting } from "@connector-oauth/config";
import {
  type ConnectorRecord,
  defineConnectors,
  isServiceError,
  providers,
  publicConnector,
} from "@connector-oauth/core";
import {
  checkTtl,
  DATA_KEY_ALIAS,
  DEFAULT_DATA_DIR,
  DEV_TOKEN_TTL,
  dataDirSecret,
  LOCAL_REGION,
  localPorts,
  mintDevToken,
  readDefinitions,
  readLocalCredentials,
  TABLE_NAME,
} from "@connector-oauth/local";

export interface CliIo {
  env: Env;
  cwd: string;
  out(line: string): void;
  err(line: string): void;
}

const USAGE = `Usage: connector-oauth <command> [options]

Commands:
  put <file.json>              Create or update the connectors defined in a file (format:
                               README "Connectors file", schema connectors.schema.json);
                               the whole file is validated before anything is written
  list --org <orgId>           List an org's connectors and their authentication status
  delete <connectorId> --org <orgId>
                               Delete a connector and its stored tokens
  token --org <orgId>          Mint a dev JWT (HS256 with AUTH_HS256_SECRET)
        [--user <id>] [--email <address>] [--member] [--ttl 8h, 1m to 30d]
  access-token <connectorId> --org <orgId>
                               Print a valid access token (refreshed first when it expires
                               within 5 minutes); --json adds type, expiry, scopes, metadata
  refresh <connectorId> --org <orgId>
                               Refresh the connector's tokens now
  disconnect <connectorId> --org <orgId>
                               Revoke the grant at the provider where it can, then remove the
                               stored tokens and mark the connector disconnected

Where the data lives:
  --local                      The services of \`npm start\` (honours PORT, DYNAMODB_PORT, KMS_PORT,
                               DATA_DIR); otherwise the AWS SDK's normal configuration
  --table <name>               DynamoDB table (default: TABLE_NAME)
  --data-key <key id or alias> KMS data key (default: DATA_KEY_ID; put, access-token, refresh, disconnect)
Other options:
  --json                       Machine-readable output (list, access-token; refused elsewhere)
  --by <userId>                Recorded as lastUpdatedBy (put; default: the OS user)
  -h, --help                   This text; <command> --help for one command
  --version                    The version`;

const VERSION = (
  JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string }
).version;

const OPTIONS = {
  org: { type: "string" },
  user: { type: "string" },
  email: { type: "string" },
  member: { type: "boolean" },
  ttl: { type: "string" },
  local: { type: "boolean" },
  table: { type: "string" },
  "data-key": { type: "string" },
  json: { type: "boolean" },
  by: { type: "string" },
  help: { type: "boolean", short: "h" },
  version: { type: "boolean" },
} as const;

/** Per command: its positional arguments and whether --json means something to it. */
const COMMANDS: Record<string, { args: string[]; json: boolean }> = {
  put: { args: ["file.json"], json: false },
  list: { args: [], json: true },
  delete: { args: ["connectorId"], json: false },
  token: { args: [], json: false },
  "access-token": { args: ["connectorId"], json: true },
  refresh: { args: ["connectorId"], json: false },
  disconnect: { args: ["connectorId"], json: false },
};

/** The USAGE lines of one command (its entry up to the next command). */
function commandUsage(command: string): string {
  const lines = USAGE.split("\n");
  const start = lines.findIndex((line) => line.startsWith(`  ${command} `));
  const end = lines.findIndex((line, i) => i > start && (/^ {2}[a-z]/.test(line) || line === ""));
  return [`Usage: connector-oauth`, ...lines.slice(start, end)]
    .join("\n")
    .replace("connector-oauth\n  ", "connector-oauth ");
}

/** Refuses extra arguments and a --json the command would ignore. */
function checkArgs(command: string, rest: string[], values: Values): void {
  const spec = COMMANDS[command] as { args: string[]; json: boolean };
  if (rest.length > spec.args.length)
    throw new UsageError(
      `${command} takes ${spec.args.map((a) => `<${a}>`).join(" ") || "no arguments"}; unexpected ${JSON.stringify(rest[spec.args.length])}`,
    );
  if (values.json && !spec.json) throw new UsageError(`${command} has no --json output`);
}

type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>["values"];

/** Invalid usage: exit code 2 with the message and a pointer to --help. */
class UsageError extends Error {}

function need<T>(value: T | undefined, message: string): T {
  if (value === undefined || value === "") throw new UsageError(message);
  return value;
}

/** A bad option value is bad usage (exit 2), whatever check found it. */
function usage<T>(check: () => T): T {
  try {
    return check();
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

/** Clients and names for the target: `npm start`'s services with --local, else the SDK's config. */
async function target(values: Values, env: Env) {
  if (values.local) {
    const ports = localPorts(env);
    const dataDir = resolve(env.DATA_DIR || DEFAULT_DATA_DIR);
    const credentials = await readLocalCredentials(dataDir);
    if (!credentials)
      throw new ConfigError("DATA_DIR", `no local credentials in ${dataDir} yet: run npm start once`);
    const local = (port: number) => ({
      region: LOCAL_REGION,
      endpoint: `http://127.0.0.1:${port}`,
      credentials,
    });
    return {
      dynamo: local(ports.dynamodbPort),
      kms: local(ports.kmsPort),
      table: values.table ?? TABLE_NAME,
      dataKey: values["data-key"] ?? DATA_KEY_ALIAS,
      allowLoopbackHttp: true,
    };
  }
  const {
    AWS_ACCESS_KEY_ID: accessKeyId,
    AWS_SECRET_ACCESS_KEY: secretAccessKey,
    AWS_SESSION_TOKEN: sessionToken,
  } = env;
  const credentials =
    accessKeyId && secretAccessKey ? { accessKeyId, secretAccessKey, sessionToken } : undefined;
  const region = optionalSetting(env, "AWS_REGION") ?? optionalSetting(env, "AWS_DEFAULT_REGION");
  const endpoint = (service: string) =>
    optionalSetting(env, `AWS_ENDPOINT_URL_${service}`) ?? optionalSetting(env, "AWS_ENDPOINT_URL");
  return {
    dynamo: { region, credentials, endpoint: endpoint("DYNAMODB") },
    kms: { region, credentials, endpoint: endpoint("KMS") },
    table: need(
      values.table ?? optionalSetting(env, "TABLE_NAME"),
      "Set TABLE_NAME or --table (or use --local)",
    ),
    dataKey: values["data-key"] ?? optionalSetting(env, "DATA_KEY_ID"),
    allowLoopbackHttp: flagSetting(env, "ALLOW_LOOPBACK_HTTP"),
  };
}

type Target = Awaited<ReturnType<typeof target>>;

/** Runs `use` with the adapters for `t`, then releases the clients. */
async function withStores<T>(
  targetOf: Promise<Target>,
  use: (s: ReturnType<typeof stores>) => Promise<T>,
): Promise<T> {
  const t = await targetOf;
  const dynamo = new DynamoDBClient({ ...t.dynamo, maxAttempts: 2 });
  const kms = new KMSClient({ ...t.kms, maxAttempts: 2 });
  try {
    return await use(stores(t, dynamo, kms));
  } finally {
    dynamo.destroy();
    kms.destroy();
  }
}

const quiet = { info() {}, warn() {}, error() {} };

function stores(t: Target, dynamo: DynamoDBClient, kms: KMSClient) {
  const dataKeyId = () => need(t.dataKey, "Set DATA_KEY_ID or --data-key (or use --local)");
  return {
    connectors: dynamoConnectorStore(dynamo, t.table),
    dataKeys: () => kmsDataKeys(kms, dataKeyId()),
    access: () =>
      awsTokenAccess(
        { dynamo, kms },
        { tableName: t.table, dataKeyId: dataKeyId(), allowLoopbackHttp: t.allowLoopbackHttp },
        { log: quiet },
      ),
  };
}

/** The connector id and org every token command needs. */
function connectorArgs(command: string, positionals: string[], values: Values) {
  const id = need(
    positionals[0],
    `${command} needs a connector id: connector-oauth ${command} <connectorId> --org <orgId>`,
  );
  return { id, org: need(values.org, `${command} needs --org <orgId>`) };
}

async function accessToken(positionals: string[], values: Values, io: CliIo): Promise<number> {
  const { id, org } = connectorArgs("access-token", positionals, values);
  const token = await withStores(target(values, io.env), (s) => s.access().getAccessToken(org, id));
  io.out(values.json ? JSON.stringify(token, null, 2) : token.accessToken);
  return 0;
}

async function refresh(positionals: string[], values: Values, io: CliIo): Promise<number> {
  const { id, org } = connectorArgs("refresh", positionals, values);
  const token = await withStores(target(values, io.env), (s) => s.access().refresh(org, id));
  io.out(`refreshed ${id} (org ${org}): access token expires ${token.expiresAt ?? "never"}`);
  return 0;
}

async function disconnect(positionals: string[], values: Values, io: CliIo): Promise<number> {
  const { id, org } = connectorArgs("disconnect", positionals, values);
  const by = values.by ?? `${userInfo().username}@${hostname()}`;
  const result = await withStores(target(values, io.env), async (s) => {
    const record = await s.connectors.get(org, id);
    if (!record) throw new ConfigError("--org", `no connector ${id} in org ${org}`);
    // Never connected: nothing to revoke or remove, and its status stays what it is.
    if (!record.tokens && record.status === "not_connected") return undefined;
    return s.access().disconnect(org, id, by);
  });
  if (!result) {
    io.out(`${id} (org ${org}) was never connected: nothing to disconnect`);
    return 0;
  }
  io.out(`disconnected ${id} (org ${org}); tokens removed; revocation at the provider: ${result.revocation}`);
  return result.revocation === "failed" ? 1 : 0;
}

async function put(positionals: string[], values: Values, io: CliIo): Promise<number> {
  const file = need(positionals[0], "put needs a definitions file: connector-oauth put <file.json>");
  const t = await target(values, io.env);
  // Everything is validated before the first write: a bad file changes nothing.
  const definitions = await readDefinitions(resolve(io.cwd, file), t.allowLoopbackHttp);
  if (!definitions.length)
    throw new UsageError(`${file} holds no connectors (an empty array); nothing saved`);
  const by = values.by ?? `${userInfo().username}@${hostname()}`;
  const saved = await withStores(Promise.resolve(t), (s) =>
    defineConnectors(
      {
        connectors: s.connectors,
        dataKeys: s.dataKeys(),
        catalog: { catalog: providers, allowLoopbackHttp: t.allowLoopbackHttp },
      },
      definitions,
      by,
      Date.now(),
    ),
  );
  for (const c of saved) {
    // A change of where its secrets go unbinds the stored tokens (config-binding.ts): say so.
    const removed = c.tokensRemoved
      ? "; tokens removed (provider, client id, parameters or endpoints changed): connect it again"
      : "";
    io.out(
      `saved ${c.connectorId} (org ${c.orgId}, ${c.provider}): ${c.status}, version ${c.version}${removed}`,
    );
  }
  return 0;
}

function table(rows: string[][]): string[] {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((row) => (row[i] ?? "").length))) ?? [];
  return rows.map((row) =>
    row
      .map((cell, i) => cell.padEnd(widths[i] ?? 0))
      .join("  ")
      .trimEnd(),
  );
}

function listing(connectors: ConnectorRecord[]): string[] {
  const header = ["CONNECTOR", "PROVIDER", "SCOPE", "STATUS", "ACCOUNT", "TOKEN EXPIRES", "UPDATED", "BY"];
  const rows = connectors.map((c) => {
    const shown = publicConnector(c);
    const account = shown.connectedAccount;
    return [
      shown._id,
      shown.provider,
      shown.scope,
      shown.status,
      account ? (account.email ?? account.id) : "-",
      shown.tokenExpiresAt ?? "-",
      shown.updatedAt,
      shown.lastUpdatedBy,
    ];
  });
  return table([header, ...rows]);
}

async function list(values: Values, io: CliIo): Promise<number> {
  const org = need(values.org, "list needs --org <orgId>");
  const connectors = await withStores(target(values, io.env), (s) => s.connectors.list(org));
  if (values.json) io.out(JSON.stringify(connectors.map(publicConnector), null, 2));
  else if (!connectors.length) io.out(`No connectors in org ${org}.`);
  else for (const line of listing(connectors)) io.out(line);
  return 0;
}

async function remove(positionals: string[], values: Values, io: CliIo): Promise<number> {
  const id = need(
    positionals[0],
    "delete needs a connector id: connector-oauth delete <connectorId> --org <orgId>",
  );
  const org = need(values.org, "delete needs --org <orgId>");
  const deleted = await withStores(target(values, io.env), (s) => s.connectors.delete(org, id));
  if (!deleted) {
    io.err(`connector-oauth: no connector ${id} in org ${org}; nothing deleted`);
    return 1;
  }
  io.out(`deleted ${id} (org ${org})`);
  return 0;
}

async function token(values: Values, io: CliIo): Promise<number> {
  const org = need(values.org, "token needs --org <orgId>");
  const dataDir = resolve(io.cwd, io.env.DATA_DIR || DEFAULT_DATA_DIR);
  const secret = io.env.AUTH_HS256_SECRET || (values.local ? await dataDirSecret(dataDir, false) : undefined);
  if (!secret) {
    const hint = values.local ? `no secret in ${dataDir} yet: run npm start once` : "or use --local";
    throw new ConfigError("AUTH_HS256_SECRET", `AUTH_HS256_SECRET is not set (${hint})`);
  }
  const ttl = usage(() => checkTtl(values.ttl ?? DEV_TOKEN_TTL, "--ttl"));
  const claims = { sub: values.user ?? "dev-admin", orgId: org, admin: !values.member, email: values.email };
  io.out(await mintDevToken(secret, claims, ttl, io.env));
  return 0;
}

/** A failure as one line: what went wrong and, for unreachable services, where it looked. */
function explain(error: unknown, values: Values, env: Env, subject?: { id: string; org: string }): string {
  if (error instanceof UsageError || error instanceof ConfigError) return error.message;
  if (isServiceError(error, "connector_not_found") && subject)
    return `no connector ${subject.id} in org ${subject.org}`;
  const cause = isServiceError(error, "dependency_unavailable")
    ? (error.cause as Error | undefined)
    : undefined;
  if (cause?.name === "ResourceNotFoundException")
    return `table ${values.table ?? env.TABLE_NAME ?? TABLE_NAME} does not exist there (${cause.message}); check TABLE_NAME or --table`;
  if (isServiceError(error, "dependency_unavailable")) {
    const cause = error.cause instanceof Error ? ` (${error.cause.name}: ${error.cause.message})` : "";
    const where = values.local
      ? "the local services: is `npm start` running?"
      : "AWS: check credentials, region and endpoint";
    return `${error.message}${cause}; tried ${where}${values.local ? "" : ` (region ${env.AWS_REGION ?? "unset"})`}`;
  }
  if (isServiceError(error)) return error.message;
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/** Runs one command; resolves the process exit code (0 ok, 1 failed, 2 bad usage). */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  let parsed: ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>;
  try {
    parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (error) {
    // Node's parser explains in a sentence plus advice; the first sentence is the error.
    const reason = (error as Error).message.split(/\. (?=[A-Z])/)[0]?.replace(/\.$/, "");
    io.err(`connector-oauth: ${reason} (try connector-oauth --help)`);
    return 2;
  }
  const { values, positionals } = parsed;
  const [command, ...rest] = positionals;
  if (values.version) {
    io.out(VERSION);
    return 0;
  }
  if (values.help && command && Object.hasOwn(COMMANDS, command)) {
    io.out(commandUsage(command));
    return 0;
  }
  if (values.help || command === "help" || !command) {
    (command || values.help ? io.out : io.err)(USAGE);
    return command || values.help ? 0 : 2;
  }
  const commands: Record<string, () => Promise<number>> = {
    put: () => put(rest, values, io),
    list: () => list(values, io),
    delete: () => remove(rest, values, io),
    token: () => token(values, io),
    "access-token": () => accessToken(rest, values, io),
    refresh: () => refresh(rest, values, io),
    disconnect: () => disconnect(rest, values, io),
  };
  const run = Object.hasOwn(commands, command) ? commands[command] : undefined;
  if (!run) {
    io.err(`connector-oauth: unknown command ${JSON.stringify(command)} (try --help)`);
    return 2;
  }
  try {
    checkArgs(command, rest, values);
    return await run();
  } catch (error) {
    const subject = rest[0] && values.org ? { id: rest[0], org: values.org } : undefined;
    io.err(`connector-oauth ${command}: ${explain(error, values, io.env, subject)}`);
    return error instanceof UsageError ? 2 : 1;
  }
}

/** Entry point of the `connector-oauth` bin. */
export async function main(argv = process.argv.slice(2)): Promise<number> {
  return runCli(argv, {
    env: process.env,
    cwd: process.cwd(),
    out: (line) => process.stdout.write(`${line}\n`),
    err: (line) => process.stderr.write(`${line}\n`),
  });
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href)
  process.exitCode = await main();
