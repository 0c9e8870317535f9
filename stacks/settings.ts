/**
 * Stage settings. Each one is an SST secret, set per stage before deploying:
 *   npx sst secret set <Name> <value> --stage <stage>
 * SST keeps the values encrypted in the stage's state; a function sees them only through its links,
 * decrypted at cold start. Optional settings default to "" (not set). The values are grouped into
 * links so each function receives only the groups functions/src/routes.ts (the route table) gives it: WebApp and Auth here,
 * PublicApi in stacks/api.ts (it defaults to the API's own URL).
 */
import { checkAppOrigins, checkAuth, checkPath, checkPrincipalArns, checkPublicApiUrl } from "./validate.ts";

/** A secret's value; without a placeholder the deploy stops until it is set. */
function setting(name: string, placeholder?: string) {
  return new sst.Secret(name, placeholder).value;
}

export function createSettings() {
  const origins = setting("AppOrigins").apply(checkAppOrigins);
  const webApp = new sst.Linkable("WebApp", {
    properties: {
      origins,
      successPath: setting("SuccessPath", "").apply((value) => checkPath("SuccessPath", value)),
      errorPath: setting("ErrorPath", "").apply((value) => checkPath("ErrorPath", value)),
      // "true" accepts relayed callbacks without iss when they carry the initiator's bearer (README).
      acceptRelayWithoutIss: setting("AcceptRelayedCallbacksWithoutIss", ""),
    },
  });

  const verification = $resolve([setting("AuthHs256Secret", ""), setting("AuthJwksUrl", "")]).apply(
    ([hs256Secret, jwksUrl]) => {
      checkAuth({ hs256Secret, jwksUrl });
      return { hs256Secret, jwksUrl };
    },
  );
  const auth = new sst.Linkable("Auth", {
    properties: {
      hs256Secret: verification.hs256Secret,
      jwksUrl: verification.jwksUrl,
      issuer: setting("AuthIssuer", ""),
      audience: setting("AuthAudience", ""),
      maxTokenAge: setting("AuthMaxTokenAge", ""),
    },
  });

  return {
    webApp,
    auth,
    /** The app origins as a list, for the API's CORS configuration. */
    originList: origins.apply((value) => value.split(",")),
    /** "" unless the stage overrides the public API base URL. */
    publicApiUrl: setting("PublicApiUrl", "").apply(checkPublicApiUrl),
    /** Who may assume the token consumer role besides workers running as it (stacks/lifecycle.ts). */
    consumerPrincipals: setting("TokenConsumerPrincipals", "").apply(checkPrincipalArns),
  };
}

export type Settings = ReturnType<typeof createSettings>;
