/** The AWS adapters as the composition roots, local mode, the bench and the tests use them. */
export { dynamoConnectorStore, dynamoFlowStore } from "./dynamo.ts";
export { kmsDataKeys, kmsStateMac } from "./kms.ts";
export { dynamoLeaseStore } from "./leases.ts";
export { awsTokenAccess } from "./lifecycle.ts";
export { ensureTable } from "./table.ts";
