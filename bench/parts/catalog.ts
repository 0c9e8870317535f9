/** Import share of the providers catalog (packages/core/src/providers.ts), which every function loads. */
export { providers } from "@connector-oauth/core";
