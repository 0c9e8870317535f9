export * from "./dynamo.ts";
export * from "./kms.ts";
export * from "./leases.ts";
export * from "./lifecycle.ts";
export * from "./table.ts";
