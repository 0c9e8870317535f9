/**
 * The RFC 9207 `iss` check on an authorization response. An `iss` that is not the provider's issuer
 * is refused for every provider (a mix-up: the code came from another authorization server). For
 * providers that send `iss` on every response (catalog `sendsIss`), a response without it is
 * refused too: an attacker relaying a code from elsewhere would simply drop it.
 *
 * Relays: PipesHub's SDK forwards only code, state, error and baseUrl, never `iss`. By default such
 * a relayed callback is refused like any other (strict). A stage may accept it
 * (`acceptRelayWithoutIss`), but only when the relay proves who it relays for: the callback carries
 * the initiator's bearer token (identity.ts checked it before this runs); each use is logged.
 */
import type { ResolvedProvider } from "./catalog.ts";
import type { Log } from "./errors.ts";

export interface IssContext {
  /** The stage accepts relayed callbacks without `iss` when they carry the initiator's bearer. */
  acceptRelayWithoutIss: boolean;
  /** The callback carried a bearer token, already verified to be the initiator's. */
  initiatorBearer: boolean;
  log: Log;
  ids: Record<string, string>;
}

/** True when the response's `iss` is acceptable for this provider. */
export function issAccepted(provider: ResolvedProvider, iss: string | null, context: IssContext): boolean {
  if (iss !== null) return iss === provider.issuer;
  if (!provider.sendsIss) return true;
  if (context.acceptRelayWithoutIss && context.initiatorBearer) {
    context.log.warn("relayed callback accepted without iss (initiator's bearer token)", context.ids);
    return true;
  }
  return false;
}
