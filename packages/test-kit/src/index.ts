export {
  APP_ORIGIN,
  authorize,
  CLIENT,
  callCallback,
  consent,
  demoConnector,
  googleWorkspaceStandIn,
  type Harness,
  JWT_SECRET,
  LEGACY_CLIENT,
  LEGACY_REDIRECT_URI,
  legacyConnector,
  OTHER_APP_ORIGIN,
  popupCode,
  startHarness,
  tokenRequests,
} from "./harness.ts";
export { loginAtProvider } from "./provider-login.ts";
