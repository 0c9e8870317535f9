export {
  type IamIdentity,
  LOCAL_ACCOUNT_ID,
  LOCAL_USER_ARN,
  type LocalApi,
  type Route,
  startLocalApi,
} from "./api-server.ts";
export {
  checkTtl,
  DEFAULT_DATA_DIR,
  DEV_TOKEN_TTL,
  dataDirSecret,
  localPorts,
  mintDevToken,
  readDefinitions,
} from "./config.ts";
export { startLocalKms } from "./kms-server.ts";
export {
  DATA_KEY_ALIAS,
  LOCAL_REGION,
  type LocalServices,
  readLocalCredentials,
  startLocalServices,
  TABLE_NAME,
} from "./services.ts";
export { type Credentials, signSigV4 } from "./sigv4.ts";
