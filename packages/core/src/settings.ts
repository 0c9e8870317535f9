/**
 * Pieces of configuration parsing shared by every entry point (the functions, workers, the CLI):
 * values come in as an environment-like map, are read once, and a bad one stops start-up with a
 * message naming it.
 */
import type { ProviderOverrides } from "./catalog.ts";

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

/** PROVIDER_OVERRIDES: a JSON object of provider key -> endpoints, or unset. */
export function providerOverridesSetting(env: Env): ProviderOverrides | undefined {
  const raw = env.PROVIDER_OVERRIDES?.trim();
  if (!raw) return undefined;
  try {
    const parsed: unknown = JSON.parse(raw);
    if (parsed && typeof parsed === "object" && !Array.isArray(parsed)) return parsed as ProviderOverrides;
  } catch {}
  return configError("PROVIDER_OVERRIDES", "must be a JSON object of provider key -> endpoints");
}
