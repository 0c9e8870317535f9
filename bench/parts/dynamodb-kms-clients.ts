/** Both clients, constructed as the keep-alive job does: what loading KMS lazily there could save. */
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { KMSClient } from "@aws-sdk/client-kms";

export const dynamo = new DynamoDBClient({});
export const kms = new KMSClient({});
