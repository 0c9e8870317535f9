/** Import share of jose: what the functions import from it (packages/core/src/callers.ts, identity.ts). */
export { createRemoteJWKSet, jwtVerify } from "jose";
