/** A sync worker's settings (the token-access library, the keep-alive job, the CLI's token commands). */
import { type ProviderOverrides, providers } from "@connector-oauth/core";
import { countSetting, type Env, flagSetting, providerOverridesSetting, requiredSetting } from "./readers.ts";

export interface WorkerSettings {
  tableName: string;
  /** The envelope data key (id, ARN or alias). */
  dataKeyId: string;
  /** Plain http to loopback providers: local mode and tests only. */
  allowLoopbackHttp: boolean;
  providerOverrides?: ProviderOverrides;
  /** Refresh when the token expires within this (default 5 minutes). */
  marginMs?: number;
}

/**
 * Reads TABLE_NAME and DATA_KEY_ID (required), TOKEN_REFRESH_MARGIN_SECONDS, ALLOW_LOOPBACK_HTTP and
 * PROVIDER_OVERRIDES (optional) from an environment-like map; throws naming the first bad setting.
 */
export function workerSettings(env: Env): WorkerSettings {
  const margin = env.TOKEN_REFRESH_MARGIN_SECONDS?.trim()
    ? countSetting(env, "TOKEN_REFRESH_MARGIN_SECONDS", 0, 0, 99_999)
    : undefined;
  const allowLoopbackHttp = flagSetting(env, "ALLOW_LOOPBACK_HTTP");
  return {
    tableName: requiredSetting(env, "TABLE_NAME"),
    dataKeyId: requiredSetting(env, "DATA_KEY_ID"),
    allowLoopbackHttp,
    providerOverrides: providerOverridesSetting(env, { catalog: providers, allowLoopbackHttp }),
    marginMs: margin === undefined ? undefined : margin * 1000,
  };
}
