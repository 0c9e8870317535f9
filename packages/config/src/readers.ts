/**
 * Readers for single settings: values come in as an environment-like map (process.env merged with
 * SST links in a function, the shell in local mode and the CLI), are read once at start-up, and a bad
 * one stops start-up with a `ConfigError` naming it. Every entry point uses these, so a setting means
 * the same thing and fails the same way everywhere.
 */
import { type Catalog, checkEndpoint, type ProviderOverrides } from "@connector-oauth/core";
import { isLoopbackHost } from "./constants.ts";

export type Env = Record<string, string | undefined>;

/** A problem the operator can fix by changing `setting`: reported as one line, without a stack. */
export class ConfigError extends Error {
  override readonly name = "ConfigError";
  /** The setting (environment name or command-line flag) to change. */
  readonly setting: string;
  /** `message` names what to change: the setting, or the file or value it points at. */
  constructor(setting: string, message: string) {
    super(message);
    this.setting = setting;
  }
}

/** Throws the start-up error for `setting`: "<setting> <why>". */
export function configError(setting: string, why: string): never {
  throw new ConfigError(setting, `${setting} ${why}`);
}

/** A required, non-blank setting. */
export function requiredSetting(env: Env, name: string): string {
  return env[name]?.trim() || configError(name, "is required");
}

/** An optional setting: trimmed, or undefined when unset or blank. */
export function optionalSetting(env: Env, name: string): string | undefined {
  return env[name]?.trim() || undefined;
}

/** A boolean setting: true/1, false/0 or unset (false). */
export function flagSetting(env: Env, name: string): boolean {
  const value = env[name]?.trim() ?? "";
  if (!["", "true", "false", "1", "0"].includes(value)) configError(name, "must be true or false");
  return value === "true" || value === "1";
}

/** A whole number setting of at least `min` (and at most `max`), or `fallback` when unset. */
export function countSetting(env: Env, name: string, fallback: number, min = 1, max = Infinity): number {
  const raw = env[name]?.trim();
  if (!raw) return fallback;
  const value = Number(raw);
  if (!/^\d+$/.test(raw) || value < min || value > max)
    configError(
      name,
      max === Infinity ? `must be a whole number >= ${min}` : `must be a whole number ${min}-${max}`,
    );
  return value;
}

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };

/** A positive duration in seconds: `3600`, `90s`, `30m`, `24h`, `1d`; unset gives `fallback`. */
export function durationSetting(env: Env, name: string, fallback: number): number {
  const value = env[name]?.trim();
  if (!value) return fallback;
  const match = /^(\d{1,9})([smhd]?)$/.exec(value);
  const seconds = match ? Number(match[1]) * (UNIT_SECONDS[match[2] || "s"] ?? 1) : 0;
  return seconds > 0 ? seconds : configError(name, "must be a positive duration such as 3600, 30m or 24h");
}

/** An absolute http(s) URL without credentials, query or fragment; plain http only for loopback hosts. */
export function webUrl(name: string, value: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return configError(name, `is not a URL: ${JSON.stringify(value)}`);
  }
  const secure = url.protocol === "https:" || (url.protocol === "http:" && isLoopbackHost(url.hostname));
  if (!secure) configError(name, "must use https (plain http only for localhost)");
  if (url.username || url.password || url.search || url.hash)
    configError(name, "must not carry credentials, a query or a fragment");
  return url;
}

/** The problem with one origin entry, or undefined. An origin is what a browser sends in `Origin`:
 * scheme://host[:port], lower case (RFC 6454 section 6.1). */
function originProblem(entry: string): string | undefined {
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(entry))
    return `has no scheme (write http://${entry} or https://${entry})`;
  let url: URL;
  try {
    url = new URL(entry);
  } catch {
    return "is not a URL";
  }
  if (url.origin !== entry && url.origin === entry.toLowerCase())
    return `must be lower case, as browsers send it: ${url.origin}`;
  if (url.origin !== entry) return `must be an exact origin, no path or trailing slash: ${url.origin}`;
  return undefined;
}

/** A comma-separated list of exact origins (APP_ORIGINS); `required` makes an empty list an error. */
export function originsSetting(env: Env, name: string, required: boolean): string[] {
  const raw = required ? requiredSetting(env, name) : (env[name] ?? "");
  const list = raw
    .split(",")
    .map((entry) => entry.trim())
    .filter(Boolean);
  for (const entry of list) {
    const problem = originProblem(entry);
    if (problem) configError(name, `entry ${JSON.stringify(entry)} ${problem}`);
    webUrl(name, entry);
  }
  return list;
}

/** An app path starting with a single `/`, or `fallback` when unset. */
export function pathSetting(env: Env, name: string, fallback: string): string {
  const path = env[name]?.trim() || fallback;
  if (!path.startsWith("/") || path.startsWith("//") || path.includes("\\"))
    configError(name, "must be a path starting with a single /");
  return path;
}

/** Every field an override may replace (exhaustive over the ProviderOverrides type). */
const OVERRIDE_FIELDS = {
  authorizationUrl: "url",
  tokenUrl: "url",
  refreshUrl: "url",
  revocationUrl: "url",
  identityUrl: "url",
  jwksUrl: "url",
  issuer: "text",
} as const satisfies Record<keyof ProviderOverrides[string], "url" | "text">;

/**
 * PROVIDER_OVERRIDES: a JSON object of catalog provider key -> endpoint replacements, or unset.
 * It re-points where tokens go, so it is for stand-ins only: refused unless ALLOW_LOOPBACK_HTTP is
 * set, and every field is checked now (a bad one would otherwise fail each request).
 */
export function providerOverridesSetting(
  env: Env,
  options: { catalog: Catalog; allowLoopbackHttp: boolean },
): ProviderOverrides | undefined {
  const raw = env.PROVIDER_OVERRIDES?.trim();
  if (!raw) return undefined;
  const bad = (why: string) => configError("PROVIDER_OVERRIDES", why);
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {}
  if (!parsed || typeof parsed !== "object" || Array.isArray(parsed))
    return bad("must be a JSON object of provider key -> endpoints");
  const entries = Object.entries(parsed as Record<string, unknown>);
  if (entries.length === 0) return undefined;
  if (!options.allowLoopbackHttp) return bad("is for stand-ins only: it needs ALLOW_LOOPBACK_HTTP=true");
  for (const [key, fields] of entries) {
    if (!Object.hasOwn(options.catalog, key)) bad(`names an unknown provider "${key}"`);
    if (!fields || typeof fields !== "object" || Array.isArray(fields)) bad(`"${key}" must be an object`);
    for (const [name, value] of Object.entries(fields as Record<string, unknown>)) {
      const kind = Object.hasOwn(OVERRIDE_FIELDS, name)
        ? OVERRIDE_FIELDS[name as keyof typeof OVERRIDE_FIELDS]
        : bad(
            `"${key}" has an unknown field "${name}" (allowed: ${Object.keys(OVERRIDE_FIELDS).join(", ")})`,
          );
      if (typeof value !== "string" || !value) bad(`"${key}.${name}" must be a non-empty string`);
      if (kind === "url") {
        try {
          checkEndpoint(value as string, true, name);
        } catch {
          bad(`"${key}.${name}" must be an https URL (or http on a loopback host)`);
        }
      }
    }
  }
  return parsed as ProviderOverrides;
}
