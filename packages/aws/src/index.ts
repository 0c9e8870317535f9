export * from "./dynamo.ts";
export * from "./kms.ts";
export * from "./table.ts";
