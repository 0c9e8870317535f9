export {
  CLIENT_SECRET_CACHE_ENTRIES,
  CLIENT_SECRET_CACHE_MS,
  DEFAULT_ERROR_PATH,
  DEFAULT_SUCCESS_PATH,
  isLoopbackHost,
  LOOPBACK_HOSTS,
} from "./constants.ts";
export { hostAllowed, hostOf } from "./host-names.ts";
export {
  ConfigError,
  configError,
  countSetting,
  durationSetting,
  type Env,
  flagSetting,
  optionalSetting,
  originsSetting,
  pathSetting,
  providerOverridesSetting,
  requiredSetting,
  webUrl,
} from "./readers.ts";
export {
  ALL_NEEDS,
  loadSettings,
  type Need,
  publicApiUrl,
  type Settings,
  type Timeouts,
  timeouts,
} from "./service.ts";
export { type WorkerSettings, workerSettings } from "./worker.ts";
