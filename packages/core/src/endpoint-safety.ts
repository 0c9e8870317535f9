/**
 * Where a provider request may go (SPEC 5, issue 9): a DNS name on the public internet. An endpoint
 * naming an IP literal (any range: the WHATWG URL parser has already turned `0x7f.1`, `2130706433`
 * and friends into dotted form) or a name that only resolves inside a host or network (`localhost`,
 * `*.localhost`, `*.local`, `*.internal`, a single label) is refused, so neither a custom `oauth2` connector nor a filled
 * template can aim a token request, with its refresh token and client secret, at the instance
 * metadata service (169.254.169.254), a VPC address (10/8, 172.16/12, 192.168/16) or the function
 * itself. Local mode (ALLOW_LOOPBACK_HTTP) exempts only the loopback hosts its stand-ins use.
 */
import { fail } from "./errors.ts";

/** Host names that count as this machine: plain http is allowed to them only in local mode. */
export const LOOPBACK_HOSTS: readonly string[] = ["localhost", "127.0.0.1", "[::1]"];
export const isLoopbackHost = (hostname: string): boolean => LOOPBACK_HOSTS.includes(hostname);
const IPV4 = /^\d{1,3}(?:\.\d{1,3}){3}$/;
/** Names that resolve only inside a host or a network: RFC 6761 localhost, RFC 6762 .local, and
 * .internal (AWS private DNS: ip-10-0-0-1.ec2.internal; ICANN reserved it for private use in 2024). */
const INTERNAL_SUFFIXES = [".localhost", ".local", ".internal"];

/** True when `hostname` (as URL.hostname gives it) is an IP literal or a host-internal name. */
export function isInternalHost(hostname: string): boolean {
  const host = hostname.toLowerCase().replace(/\.$/, "");
  return (
    IPV4.test(host) ||
    host.startsWith("[") ||
    !host.includes(".") ||
    INTERNAL_SUFFIXES.some((suffix) => host === suffix.slice(1) || host.endsWith(suffix))
  );
}

/** Throws oauth_not_configured for an internal host, unless it is loopback and loopback is allowed. */
export function assertPublicHost(url: URL, allowLoopbackHttp: boolean, what: string): void {
  if (allowLoopbackHttp && isLoopbackHost(url.hostname)) return;
  if (isInternalHost(url.hostname)) {
    throw fail("oauth_not_configured", `The provider ${what} must name a public host, not an IP address`);
  }
}
