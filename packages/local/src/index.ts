export * from "./api-server.ts";
export * from "./demo-provider.ts";
export * from "./kms-server.ts";
export * from "./provider-login.ts";
export * from "./services.ts";
