/// <reference path="../../../sst-env.d.ts" />
/**
 * Settings from SST links, under the names packages/config reads. A deployed function is linked only to
 * what it uses (functions/src/routes.ts (the route table)), so a link it lacks is skipped, never an error; an optional setting
 * left at its "" placeholder is left out. Outside SST (local mode, tests) there are no links.
 */
import { Resource } from "sst";

type Settings = Record<string, string | undefined>;

/** Only the non-empty values, so an unset optional setting does not hide one from the environment. */
function present(entries: Settings): Settings {
  return Object.fromEntries(
    Object.entries(entries).filter(([, value]) => value !== undefined && value !== ""),
  );
}

export function linkedSettings(): Settings {
  // SST sets SST_RESOURCE_App on every function it deploys; Resource throws without it.
  if (!process.env.SST_RESOURCE_App) return {};
  const has = (name: string) => name in Resource;
  return present({
    ...(has("Table") && { TABLE_NAME: Resource.Table.name }),
    ...(has("StateKey") && { STATE_KEY_ID: Resource.StateKey.arn }),
    ...(has("DataKey") && { DATA_KEY_ID: Resource.DataKey.arn }),
    ...(has("PublicApi") && { PUBLIC_API_URL: Resource.PublicApi.url }),
    ...(has("WebApp") && {
      APP_ORIGINS: Resource.WebApp.origins,
      SUCCESS_PATH: Resource.WebApp.successPath,
      ERROR_PATH: Resource.WebApp.errorPath,
      ACCEPT_RELAYED_CALLBACKS_WITHOUT_ISS: Resource.WebApp.acceptRelayWithoutIss,
    }),
    ...(has("Auth") && {
      AUTH_HS256_SECRET: Resource.Auth.hs256Secret,
      AUTH_JWKS_URL: Resource.Auth.jwksUrl,
      AUTH_ISSUER: Resource.Auth.issuer,
      AUTH_AUDIENCE: Resource.Auth.audience,
      AUTH_MAX_TOKEN_AGE: Resource.Auth.maxTokenAge,
    }),
  });
}

/** A deployed function's settings: its environment, with the SST links on top. */
export function deployedEnv(): Settings {
  return { ...process.env, ...linkedSettings() };
}
