/**
 * Pieces of configuration parsing shared by every entry point (the functions, workers, the CLI):
 * values come in as an environment-like map, are read once, and a bad one stops start-up with a
 * message naming it.
 */
import { type Catalog, checkEndpoint, type ProviderOverrides } from "./catalog.ts";

export type Env = Record<string, string | undefined>;

/** Throws the start-up error for setting `name`. */
export function configError(name: string, why: string): never {
  throw new Error(`Configuration error: ${name} ${why}`);
}

/** A required, non-blank setting. */
export function requiredSetting(env: Env, name: string): string {
  return env[name]?.trim() || configError(name, "is required");
}

/** A boolean setting: true/1, false/0 or unset (false). */
export function flagSetting(env: Env, name: string): boolean {
  const value = env[name]?.trim() ?? "";
  if (!["", "true", "false", "1", "0"].includes(value)) configError(name, "must be true or false");
  return value === "true" || value === "1";
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
