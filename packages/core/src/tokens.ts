/**
 * Token sets: from a processed token response to what is stored (secrets sealed under the
 * connector's `tokens` context, bound to its configuration digest; expiry absolute), and back.
 * Also the client secret's seal and open, under the `client-secret` context of the same binding.
 */
import type { TokenEndpointResponse } from "oauth4webapi";
import { type BoundConfig, secretContext } from "./config-binding.ts";
import { openFields, openSecret, sealFields, sealSecret } from "./envelope.ts";
import { fail } from "./errors.ts";
import type { ClientCredentials } from "./oauth.ts";
import type { DataKeys } from "./ports.ts";
import { METADATA_FIELD } from "./token-adapter.ts";
import type { ConnectorRecord, EncryptionContext, Sealed, StoredTokens } from "./types.ts";

export interface TokenSecrets {
  accessToken: string;
  refreshToken?: string;
  idToken?: string;
}

export function tokensContext(connector: BoundConfig): Promise<EncryptionContext> {
  return secretContext(connector, "tokens");
}

/** Seals a client secret for `connector` (bound to its configuration). */
export async function sealClientSecret(
  keys: DataKeys,
  connector: BoundConfig,
  secret: string,
): Promise<Sealed> {
  return sealSecret(keys, await secretContext(connector, "client-secret"), secret);
}

/** Opens the connector's client secret; undefined for a public client. */
export async function openClientSecret(
  keys: DataKeys,
  connector: BoundConfig & { clientSecret?: Sealed },
): Promise<string | undefined> {
  if (!connector.clientSecret) return undefined;
  return openSecret(keys, await secretContext(connector, "client-secret"), connector.clientSecret);
}

/** The connector's client as the token endpoint sees it: its id and its opened secret (if any). */
export async function openClient(
  keys: DataKeys,
  connector: BoundConfig & { clientId: string; clientSecret?: Sealed },
): Promise<ClientCredentials> {
  return { clientId: connector.clientId, clientSecret: await openClientSecret(keys, connector) };
}

function grantedScopes(response: TokenEndpointResponse, requested: string[]): string[] {
  if (typeof response.scope !== "string") return requested;
  return response.scope.split(/[\s,]+/).filter(Boolean);
}

/** Seals a token response for storage (one KMS data key); the response must carry an access token. */
export async function sealTokenSet(
  keys: DataKeys,
  connector: BoundConfig,
  response: TokenEndpointResponse,
  requestedScopes: string[],
  now: number,
): Promise<StoredTokens> {
  if (typeof response.access_token !== "string" || !response.access_token) {
    throw fail("provider_error", "The provider returned no access token");
  }
  const sealed = await sealFields(keys, await tokensContext(connector), {
    access: response.access_token,
    refresh: typeof response.refresh_token === "string" ? response.refresh_token : undefined,
    idToken: typeof response.id_token === "string" ? response.id_token : undefined,
  });
  if (!sealed.access) throw fail("internal_error", "Sealing produced no access token");
  const expiresIn =
    typeof response.expires_in === "number" && response.expires_in > 0 ? response.expires_in : undefined;
  return {
    access: sealed.access,
    refresh: sealed.refresh,
    idToken: sealed.idToken,
    tokenType: response.token_type,
    expiresAt: expiresIn === undefined ? undefined : new Date(now + expiresIn * 1000).toISOString(),
    scopes: grantedScopes(response, requestedScopes),
    metadata: (response[METADATA_FIELD] as Record<string, string> | undefined) ?? {},
    obtainedAt: new Date(now).toISOString(),
  };
}

/** Decrypts a connector's stored tokens (KMS Decrypt under the connector's own context). */
export async function openTokenSet(keys: DataKeys, connector: ConnectorRecord): Promise<TokenSecrets> {
  const tokens = connector.tokens;
  if (!tokens) throw fail("oauth_not_configured", "The connector has no tokens");
  const { access, refresh, idToken } = await openFields(keys, await tokensContext(connector), {
    access: tokens.access,
    refresh: tokens.refresh,
    idToken: tokens.idToken,
  });
  if (access === undefined) throw fail("internal_error", "Stored tokens have no access token");
  return { accessToken: access, refreshToken: refresh, idToken };
}
