/**
 * The Host names a local server answers to. A web page on any site can make the browser send
 * requests to 127.0.0.1 by pointing its own name there (DNS rebinding); such requests still carry
 * that site's name in `Host`, so every local server refuses a Host that is not its own.
 */
import { isLoopbackHost } from "./constants.ts";

/** The host name (no port, lower case) of a Host header, or undefined when it is not one. */
function hostName(header: string | undefined): string | undefined {
  if (!header || /[\s/@?#\\]/.test(header)) return undefined;
  try {
    return new URL(`http://${header}`).hostname;
  } catch {
    return undefined;
  }
}

/** True when a request's Host header is a loopback name or one of `extra` (host names, e.g. from
 * PUBLIC_API_URL). */
export function hostAllowed(request: { headers: { host?: string } }, extra: readonly string[] = []): boolean {
  const name = hostName(request.headers.host);
  return name !== undefined && (isLoopbackHost(name) || extra.includes(name));
}

/** The host name of a URL setting, for `hostAllowed`'s `extra`. */
export const hostOf = (url: string): string => new URL(url).hostname;
