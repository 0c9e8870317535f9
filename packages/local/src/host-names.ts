/**
 * The Host names a local server answers to. A web page on any site can make the browser send
 * requests to 127.0.0.1 by pointing its own name there (DNS rebinding); such requests still carry
 * that site's name in `Host`, so every local server refuses a Host that is not its own.
 */
import type { IncomingMessage } from "node:http";

/** The loopback names, always allowed. */
export const LOOPBACK_HOSTS = ["localhost", "127.0.0.1", "[::1]"];

/** The host name (no port, lower case) of a Host header, or undefined when it is not one. */
function hostName(header: string | undefined): string | undefined {
  if (!header || /[\s/@?#\\]/.test(header)) return undefined;
  try {
    return new URL(`http://${header}`).hostname;
  } catch {
    return undefined;
  }
}

/** True when the request's Host is a loopback name or one of `extra` (host names, e.g. from PUBLIC_API_URL). */
export function hostAllowed(request: IncomingMessage, extra: readonly string[] = []): boolean {
  const name = hostName(request.headers.host);
  return name !== undefined && (LOOPBACK_HOSTS.includes(name) || extra.includes(name));
}

/** The host name of a URL setting, for `hostAllowed`'s `extra`. */
export const hostOf = (url: string): string => new URL(url).hostname;
