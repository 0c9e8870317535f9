/**
 * Local mode's configuration: read once from the environment and validated before anything starts,
 * so a bad setting ends startup with one message naming it. The handlers' own settings validation
 * (packages/config) is reused for origins and URLs.
 */
import { randomBytes } from "node:crypto";
import { chmod, mkdir, readFile, unlink, writeFile } from "node:fs/promises";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { ConfigError, type Env, loadSettings, originsSetting } from "@connector-oauth/config";
import { type ConnectorDefinition, parseDefinition, parseJsonText, providers } from "@connector-oauth/core";
import { SignJWT } from "jose";

export interface LocalConfig {
  /** The environment the settings were read from: what the handlers read beyond local mode's own. */
  env: Env;
  /** API port; 0 picks a free one. The demo provider, DynamoDB and KMS default to the next three. */
  port: number;
  demoProviderPort: number;
  dynamodbPort: number;
  kmsPort: number;
  /** Absolute path; DynamoDB data, KMS keys and the generated auth secret live here. */
  dataDir: string;
  connectorsFile?: string;
  /** Definitions from CONNECTORS_FILE, already validated (client secrets still in plaintext). */
  definitions: ConnectorDefinition[];
  /** AUTH_HS256_SECRET when given; otherwise one is generated and kept in dataDir. */
  hs256Secret?: string;
  /** APP_ORIGINS when given; the API's own origin is added so the demo page can be the app. */
  appOrigins?: string[];
  publicApiUrl?: string;
  /** Lifetime of the printed dev admin token. */
  devTokenTtl: string;
  successPath: string;
  errorPath: string;
}

export const DEMO_SUCCESS_PATH = "/demo/connected/{connectorId}";
export const DEMO_ERROR_PATH = "/demo/error";
export const DEFAULT_PORT = 3000;
/** `.data` at the repository root (git-ignored), wherever the command runs from. */
export const DEFAULT_DATA_DIR = fileURLToPath(new URL("../../../.data", import.meta.url));
const SECRET_FILE = "auth-hs256-secret";
const PID_FILE = "local-mode.pid";
/** How long the printed dev admin token lives (DEV_TOKEN_TTL): hours, not weeks. */
export const DEV_TOKEN_TTL = "8h";
/** The lifetimes a minted dev token may have: 1 minute to 30 days. */
const TTL_SECONDS = { s: 1, m: 60, h: 3600, d: 86400, w: 604800 } as const;

/** Checks a lifetime like 15m, 8h or 30d against the bounds; returns it, or throws naming `setting`. */
export function checkTtl(ttl: string, setting: string): string {
  const match = /^(\d+)(s|m|h|d|w)$/.exec(ttl.trim());
  const seconds = match ? Number(match[1]) * TTL_SECONDS[match[2] as keyof typeof TTL_SECONDS] : Number.NaN;
  if (!(seconds >= 60 && seconds <= 30 * 86400))
    throw new ConfigError(
      setting,
      `${setting} must be a lifetime from 1m to 30d, like 15m, 8h or 7d; got ${JSON.stringify(ttl)}`,
    );
  return ttl.trim();
}

function portOf(env: Env, name: string, fallback: number): number {
  const raw = env[name]?.trim();
  if (!raw) return fallback;
  const port = Number(raw);
  if (!/^\d+$/.test(raw) || port > 65535)
    throw new ConfigError(name, `${name} must be a port number (0-65535), got ${JSON.stringify(raw)}`);
  return port;
}

/** The ports local mode uses: PORT, then PORT+1..3 unless set (PORT=0: all random). */
export function localPorts(env: Env) {
  const port = portOf(env, "PORT", DEFAULT_PORT);
  const next = (offset: number) => (port === 0 ? 0 : port + offset);
  const ports = {
    port,
    demoProviderPort: portOf(env, "DEMO_PROVIDER_PORT", next(1)),
    dynamodbPort: portOf(env, "DYNAMODB_PORT", next(2)),
    kmsPort: portOf(env, "KMS_PORT", next(3)),
  };
  checkDistinct(ports);
  return ports;
}

const PORT_SETTINGS = {
  port: "PORT",
  demoProviderPort: "DEMO_PROVIDER_PORT",
  dynamodbPort: "DYNAMODB_PORT",
  kmsPort: "KMS_PORT",
};

/** Two servers cannot share a port: name both settings rather than blaming whichever starts second. */
function checkDistinct(ports: Record<keyof typeof PORT_SETTINGS, number>): void {
  const seen = new Map<number, string>();
  for (const [key, setting] of Object.entries(PORT_SETTINGS)) {
    const value = ports[key as keyof typeof PORT_SETTINGS];
    const other = seen.get(value);
    if (value !== 0 && other)
      throw new ConfigError(
        setting,
        `${other} and ${setting} are both ${value}: each local server needs its own port`,
      );
    seen.set(value, setting);
  }
}

/** Edit distance (insertions, deletions, substitutions) between two short strings. */
function distance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++)
      next[j] = Math.min(
        (row[j] ?? 0) + 1,
        (next[j - 1] ?? 0) + 1,
        (row[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    row = next;
  }
  return row[b.length] ?? 0;
}

/** For a provider key the catalog does not have: the close ones, and where the list is. */
function unknownProvider(item: unknown): string | undefined {
  const { provider, connectorId } = (item ?? {}) as { provider?: unknown; connectorId?: unknown };
  if (typeof provider !== "string" || provider === "oauth2" || Object.hasOwn(providers, provider))
    return undefined;
  const keys = [...Object.keys(providers), "oauth2"];
  const close = keys.filter(
    (key) => distance(key, provider.toLowerCase()) <= 2 || key.includes(provider.toLowerCase()),
  );
  const hint = close.length ? `did you mean ${close.join(" or ")}? ` : "";
  return `connector ${JSON.stringify(connectorId)}: unknown provider ${JSON.stringify(provider)}; ${hint}the providers are listed in docs/providers.md (or use oauth2 with endpoints)`;
}

/** Reads and validates a connectors file; every problem names the file. */
export async function readDefinitions(
  file: string,
  allowLoopbackHttp: boolean,
): Promise<ConnectorDefinition[]> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? "unreadable";
    throw new ConfigError("CONNECTORS_FILE", `${file}: cannot read the connectors file (${reason})`);
  }
  let parsed: unknown;
  try {
    // Line and column only: the engine's own message quotes the file, client secrets included.
    parsed = parseJsonText(text, "the connectors file");
  } catch (error) {
    throw new ConfigError("CONNECTORS_FILE", `${file}: ${(error as Error).message}`);
  }
  // An array, or { "$schema": ..., "connectors": [...] } so that editors find connectors.schema.json.
  const wrapped = parsed as { connectors?: unknown } | null;
  if (!Array.isArray(parsed) && typeof wrapped === "object" && wrapped && Array.isArray(wrapped.connectors))
    parsed = wrapped.connectors;
  if (!Array.isArray(parsed))
    throw new ConfigError(
      "CONNECTORS_FILE",
      `${file}: must hold a JSON array of connectors (or { "connectors": [...] })`,
    );
  const unknown = parsed.map(unknownProvider).find(Boolean);
  if (unknown) throw new ConfigError("CONNECTORS_FILE", `${file}: ${unknown}`);
  try {
    return parsed.map((item) => parseDefinition(item, { catalog: providers, allowLoopbackHttp }));
  } catch (error) {
    throw new ConfigError("CONNECTORS_FILE", `${file}: ${(error as Error).message}`);
  }
}

/** Validates the handler-facing settings now, with placeholders for what only startup knows. */
function checkHandlerSettings(env: Env, publicApiUrl: string | undefined) {
  loadSettings({
    ...env,
    TABLE_NAME: "check",
    STATE_KEY_ID: "check",
    DATA_KEY_ID: "check",
    AUTH_JWKS_URL: undefined,
    AUTH_HS256_SECRET: env.AUTH_HS256_SECRET || "placeholder-secret-for-checking",
    APP_ORIGINS: env.APP_ORIGINS?.trim() || "http://localhost:3000",
    PUBLIC_API_URL: publicApiUrl ?? "http://localhost:3000",
    ALLOW_LOOPBACK_HTTP: "true",
  });
}

/** Reads local mode's settings from `env` (relative paths against `cwd`); throws ConfigError. */
export async function loadLocalConfig(env: Env, cwd = process.cwd()): Promise<LocalConfig> {
  const ports = localPorts(env);
  const appOrigins = originsSetting(env, "APP_ORIGINS", false);
  const publicApiUrl = env.PUBLIC_API_URL?.trim().replace(/\/+$/, "") || undefined;
  checkHandlerSettings(env, publicApiUrl);
  const connectorsFile = env.CONNECTORS_FILE?.trim() ? resolve(cwd, env.CONNECTORS_FILE.trim()) : undefined;
  return {
    env,
    ...ports,
    dataDir: resolve(cwd, env.DATA_DIR?.trim() || DEFAULT_DATA_DIR),
    connectorsFile,
    definitions: connectorsFile ? await readDefinitions(connectorsFile, true) : [],
    hs256Secret: env.AUTH_HS256_SECRET || undefined,
    appOrigins: appOrigins.length ? appOrigins : undefined,
    publicApiUrl,
    devTokenTtl: checkTtl(env.DEV_TOKEN_TTL?.trim() || DEV_TOKEN_TTL, "DEV_TOKEN_TTL"),
    successPath: env.SUCCESS_PATH?.trim() || DEMO_SUCCESS_PATH,
    errorPath: env.ERROR_PATH?.trim() || DEMO_ERROR_PATH,
  };
}

/** Creates the data folder private to its owner (0700: it holds keys, tokens and credentials),
 * or says which setting points at an unusable place. */
export async function ensureDataDir(dataDir: string): Promise<void> {
  try {
    await mkdir(dataDir, { recursive: true, mode: 0o700 });
    await chmod(dataDir, 0o700);
  } catch (error) {
    throw new ConfigError(
      "DATA_DIR",
      `DATA_DIR ${dataDir} cannot be created (${(error as NodeJS.ErrnoException).code})`,
    );
  }
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Claims the data folder for this process: LevelDB and the KMS key file allow one writer. Resolves
 * the release function; throws ConfigError while another live process holds the folder. */
export async function claimDataDir(dataDir: string): Promise<() => Promise<void>> {
  const file = resolve(dataDir, PID_FILE);
  const mine = String(process.pid);
  try {
    await writeFile(file, mine, { flag: "wx", mode: 0o600 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    const holder = Number(await readFile(file, "utf8").catch(() => ""));
    if (holder && holder !== process.pid && isRunning(holder)) {
      throw new ConfigError(
        "DATA_DIR",
        `DATA_DIR ${dataDir} is in use by another local mode (pid ${holder}); stop it, or delete ${file} if it is stale`,
      );
    }
    await writeFile(file, mine);
  }
  return async () => {
    const holder = await readFile(file, "utf8").catch(() => "");
    if (holder === mine) await unlink(file).catch(() => {});
  };
}

/** The dev auth secret kept in the data folder, so minted tokens survive restarts. */
export async function dataDirSecret(dataDir: string, create: boolean): Promise<string | undefined> {
  const file = resolve(dataDir, SECRET_FILE);
  const existing = await readFile(file, "utf8").then(
    (text) => text.trim(),
    () => undefined,
  );
  if (existing || !create) return existing || undefined;
  const secret = randomBytes(32).toString("base64url");
  await writeFile(file, `${secret}\n`, { mode: 0o600 });
  return secret;
}

/** Mints a dev JWT the handlers accept (HS256, PipesHub's claims). */
export async function mintDevToken(
  secret: string,
  claims: { sub: string; orgId: string; admin: boolean; email?: string },
  ttl = DEV_TOKEN_TTL,
  env: Record<string, string | undefined> = process.env,
): Promise<string> {
  const { sub, orgId, admin, email } = claims;
  const jwt = new SignJWT({ orgId, email, role: admin ? "admin" : "member" })
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setSubject(sub)
    .setIssuedAt()
    .setExpirationTime(ttl);
  if (env.AUTH_ISSUER) jwt.setIssuer(env.AUTH_ISSUER);
  if (env.AUTH_AUDIENCE) jwt.setAudience(env.AUTH_AUDIENCE);
  return jwt.sign(new TextEncoder().encode(secret));
}
