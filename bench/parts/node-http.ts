/**
 * `node:http` imported as an ES module, as @smithy/node-http-handler does at the first request to an
 * http:// endpoint (the local services; AWS endpoints are https, whose module it imports at load).
 * The ES module facade reads every export of node:http, which loads Node's bundled undici: the
 * same cost a first global `fetch` pays (oauth4webapi's provider calls), and paid only once.
 */
await import("node:http");

export const loaded = true;
