/** Values more than one entry point must agree on. */

/** Host names that count as this machine: plain http is allowed to them (local mode, stand-ins). */
export const LOOPBACK_HOSTS: readonly string[] = ["localhost", "127.0.0.1", "[::1]"];
export const isLoopbackHost = (hostname: string) => LOOPBACK_HOSTS.includes(hostname);

/** Client-secret data keys stay decrypted in memory this long (per warm container or worker). */
export const CLIENT_SECRET_CACHE_MS = 5 * 60_000;
/** At most this many decrypted client-secret data keys are cached per process. */
export const CLIENT_SECRET_CACHE_ENTRIES = 100;

/** Where the app shows a connected connector, and where it shows a failed connect (PipesHub's paths). */
export const DEFAULT_SUCCESS_PATH = "/account/company-settings/settings/connector/{connectorId}";
export const DEFAULT_ERROR_PATH = "/connectors/oauth/callback";
