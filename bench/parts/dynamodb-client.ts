/** The DynamoDB client alone, constructed: with the next part, the KMS client's share beside it. */
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";

export const dynamo = new DynamoDBClient({});
