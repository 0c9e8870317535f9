/**
 * Binding secrets to the connector's security-relevant configuration (SPEC section 4, issue 9).
 *
 * Whoever can write the table but not use the KMS key could otherwise re-point where a connector's
 * refresh token and client secret are sent: change a custom `oauth2` token URL, a templated host
 * parameter, the provider key or the client id, and wait for the next refresh. So every envelope
 * (tokens and client secret) is sealed under a digest of exactly what decides where those secrets
 * go, as part of the KMS encryption context and of the GCM AAD. A changed configuration changes the
 * digest: KMS refuses the data key and nothing is decrypted, so nothing can be sent anywhere.
 *
 * The digest covers the stored inputs (provider key, client id, template parameters, custom
 * endpoints, identity URL included) rather than URLs resolved from the catalog: the table can only
 * change the inputs, and a catalog release that moves a provider's URL must not disconnect every
 * connector of that provider. Digest: base64url(SHA-256(canonical JSON)), versioned by its label.
 */
import { toBase64Url, utf8 } from "./encoding.ts";
import type { ConnectorConfig, EncryptionContext, SecretPurpose } from "./types.ts";

export type BoundConfig = Pick<
  ConnectorConfig,
  "orgId" | "connectorId" | "provider" | "clientId" | "params" | "endpoints"
>;

const DIGEST_LABEL = "connector-oauth/config-digest/v1";

/** JSON with object keys sorted at every level, so equal configurations give equal bytes. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (value && typeof value === "object") {
    const entries = Object.entries(value)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(",")}}`;
  }
  return JSON.stringify(value ?? null);
}

/** The digest of what decides where a connector's secrets are sent. */
export async function configDigest(config: BoundConfig): Promise<string> {
  const bound = [
    DIGEST_LABEL,
    config.provider,
    config.clientId,
    config.params ?? {},
    config.endpoints ?? null,
  ];
  const hash = await crypto.subtle.digest("SHA-256", utf8(canonical(bound)));
  return toBase64Url(new Uint8Array(hash));
}

/** The encryption context of one purpose of a connector: org, connector, purpose and config digest. */
export async function secretContext(config: BoundConfig, purpose: SecretPurpose): Promise<EncryptionContext> {
  return {
    orgId: config.orgId,
    connectorId: config.connectorId,
    purpose,
    config: await configDigest(config),
  };
}

/** True when two configurations send secrets to the same place (same digest). */
export async function sameBinding(a: BoundConfig, b: BoundConfig): Promise<boolean> {
  return (await configDigest(a)) === (await configDigest(b));
}
