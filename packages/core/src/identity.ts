/**
 * Who consented, and whether they may complete this flow (SPEC 2.2, issue 9).
 *
 * - The initiator binding: a callback that carries a bearer token (a relay such as PipesHub's
 *   frontend) completes only for the user who started the flow; anyone else gets account_mismatch
 *   before the code is redeemed.
 * - The connected account: read after the code exchange as the catalog entry's `identity` says
 *   (paths in the token response, the provider's identity endpoint called with the new access
 *   token, or the verified id_token), recorded on the connector, never a secret. A personal
 *   connector whose provider yields a verified email must have been consented to by the initiator
 *   (same email as the caller JWT at authorize), else account_mismatch and nothing is stored; team
 *   connectors record the account without enforcing it (admins connect service accounts).
 * Reading the identity fails closed where it is enforced: for a personal connector whose initiator
 * has an email, an identity that cannot be read (the endpoint fails or does not answer in time, an
 * id_token does not verify) ends the flow with provider_error and nothing stored, since it could be
 * anyone's consent. Elsewhere it is best effort: the account stays unrecorded (logged) and the
 * tokens are stored. Tokens are never logged or returned.
 */
import { createRemoteJWKSet, jwtVerify } from "jose";
import type { TokenEndpointResponse } from "oauth4webapi";
import type { ResolvedProvider } from "./catalog.ts";
import { describeError, fail, type Log } from "./errors.ts";
import { at, IDENTITY_FIELD } from "./token-adapter.ts";
import type { Caller, ConnectedAccount, ConnectorConfig, FlowRecord } from "./types.ts";

/** The identity endpoint must answer within this (well inside the callback's Lambda timeout). */
export const IDENTITY_TIMEOUT_MS = 5_000;
const MAX_VALUE_LENGTH = 256;
const jwksByUrl = new Map<string, ReturnType<typeof createRemoteJWKSet>>();

/** True when the bearer on a relayed callback (if any) is the flow's initiator. */
export function isInitiator(flow: FlowRecord, caller: Caller | undefined): boolean {
  return caller === undefined || (caller.userId === flow.userId && caller.orgId === flow.orgId);
}

/** Verifies an id_token's signature against the JWKS, and its iss, aud and exp (jose). */
export async function verifyIdToken(idToken: string, jwksUrl: string, issuer: string, audience: string) {
  const jwks =
    jwksByUrl.get(jwksUrl) ?? createRemoteJWKSet(new URL(jwksUrl), { timeoutDuration: IDENTITY_TIMEOUT_MS });
  jwksByUrl.set(jwksUrl, jwks);
  try {
    return (await jwtVerify(idToken, jwks, { issuer, audience })).payload;
  } catch (error) {
    throw fail("provider_error", "The provider's id_token did not verify", error);
  }
}

async function fromEndpoint(
  provider: ResolvedProvider,
  accessToken: string,
  fetchImpl: typeof fetch,
  timeoutMs: number,
) {
  if (!provider.identityUrl) throw fail("oauth_not_configured", "The identity source needs a URL");
  const response = await fetchImpl(provider.identityUrl, {
    headers: {
      ...provider.entry.identity?.headers,
      accept: "application/json",
      authorization: `Bearer ${accessToken}`,
    },
    redirect: "manual",
    signal: AbortSignal.timeout(timeoutMs),
  });
  if (!response.ok) throw fail("provider_error", `The identity endpoint answered HTTP ${response.status}`);
  return (await response.json()) as unknown;
}

/** The raw identity document the entry's `identity.source` names. */
async function identityDocument(
  provider: ResolvedProvider,
  response: TokenEndpointResponse,
  clientId: string,
  fetchImpl: typeof fetch,
  timeoutMs: number,
): Promise<unknown> {
  switch (provider.entry.identity?.source) {
    case "token_response":
      return response[IDENTITY_FIELD];
    case "endpoint":
      return fromEndpoint(provider, response.access_token, fetchImpl, timeoutMs);
    case "id_token":
      if (typeof response.id_token !== "string" || !provider.jwksUrl || !provider.issuer) return undefined;
      return verifyIdToken(response.id_token, provider.jwksUrl, provider.issuer, clientId);
    default:
      return undefined;
  }
}

function shortText(value: unknown): string | undefined {
  if (typeof value === "number" && Number.isFinite(value)) return String(value);
  return typeof value === "string" && value && value.length <= MAX_VALUE_LENGTH ? value : undefined;
}

/** Reads the account from a document by the entry's paths; undefined without an id. */
export function accountFrom(provider: ResolvedProvider, document: unknown): ConnectedAccount | undefined {
  const spec = provider.entry.identity;
  const id = spec && shortText(at(document, spec.id));
  if (!spec || !id) return undefined;
  const email = spec.email ? shortText(at(document, spec.email)) : undefined;
  const verified =
    spec.emailVerified === true || (spec.emailVerified ? at(document, spec.emailVerified) : undefined);
  const account: ConnectedAccount = { id };
  if (email) account.email = email;
  if (email && spec.emailVerified !== undefined)
    account.emailVerified = verified === true || verified === "true";
  const name = spec.name ? shortText(at(document, spec.name)) : undefined;
  if (name) account.name = name;
  return account;
}

/** Who consented: `account` when read (absent when the provider offers none); `unreadable` when the
 * provider offers one but it could not be read (logged). */
export type IdentityResult = { account?: ConnectedAccount; unreadable?: true };

/** The account that consented, as the catalog entry's `identity` says. */
export async function identifyAccount(
  provider: ResolvedProvider,
  response: TokenEndpointResponse,
  context: { clientId: string; connectorId: string; log: Log; fetch?: typeof fetch; timeoutMs?: number },
): Promise<IdentityResult> {
  if (!provider.entry.identity) return {};
  try {
    // The caller's time left bounds the lookup (the callback must still store the tokens in time).
    const timeoutMs = Math.max(0, Math.min(IDENTITY_TIMEOUT_MS, context.timeoutMs ?? IDENTITY_TIMEOUT_MS));
    const fetchImpl = context.fetch ?? fetch;
    const document = await identityDocument(provider, response, context.clientId, fetchImpl, timeoutMs);
    return { account: accountFrom(provider, document) };
  } catch (error) {
    context.log.warn("connected account not identified", {
      connectorId: context.connectorId,
      ...describeError(error),
    });
    return { unreadable: true };
  }
}

/** Whether this flow's consenting account is checked (mayConnectAs), so an unreadable one must
 * end it: a personal connector whose initiator's email is known. */
export function mustIdentify(
  connector: Pick<ConnectorConfig, "scope">,
  flow: Pick<FlowRecord, "initiatorEmail">,
): boolean {
  return connector.scope === "personal" && Boolean(flow.initiatorEmail);
}

/** Personal connectors: a verified email of the consenting account must be the initiator's. */
export function mayConnectAs(
  connector: Pick<ConnectorConfig, "scope">,
  flow: Pick<FlowRecord, "initiatorEmail">,
  account: ConnectedAccount | undefined,
): boolean {
  if (!mustIdentify(connector, flow) || !account?.email || account.emailVerified !== true) return true;
  return account.email.toLowerCase() === flow.initiatorEmail?.toLowerCase();
}
