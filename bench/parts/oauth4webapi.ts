/** Import share of oauth4webapi: the functions import its namespace (packages/core/src/oauth.ts, ...),
 * so all of it, as an upper bound of what their bundles keep. */
export * from "oauth4webapi";
