/**
 * The three route handlers and exactly what each may touch. This is the one place to change a
 * handler's DynamoDB or KMS actions or the settings it receives: stacks/api.ts turns each entry into
 * the function's links, its IAM statements, and its statement in each key's policy.
 *
 * Pure data (no SST globals), so it reads at a glance.
 */
export type SettingsLink = "WebApp" | "PublicApi" | "Auth";

export interface HandlerAccess {
  /** API Gateway route key, "METHOD /path". */
  route: string;
  /** Handler path from the repository root, as SST expects it. */
  handler: string;
  /** Actions on the table ARN. */
  table: readonly `dynamodb:${string}`[];
  /** Actions on the HMAC state key ARN; absent: no access and no link. */
  stateKey?: readonly `kms:${string}`[];
  /** Actions on the envelope data key ARN; absent: no access and no link. */
  dataKey?: readonly `kms:${string}`[];
  /** Stage settings linked to the function (see stacks/settings.ts). */
  settings: readonly SettingsLink[];
}

export const handlers = {
  // Starts a flow: reads the connector, writes the flow record, signs the state.
  Authorize: {
    route: "GET /connectors/{connectorId}/oauth/authorize",
    handler: "functions/src/authorize.handler",
    table: ["dynamodb:GetItem", "dynamodb:PutItem"],
    stateKey: ["kms:GenerateMac"],
    settings: ["WebApp", "PublicApi", "Auth"],
  },
  // Finishes a flow: verifies the state (and a relay's bearer), consumes the flow, opens the client
  // secret, seals the tokens.
  Callback: {
    route: "GET /connectors/oauth/callback",
    handler: "functions/src/callback.handler",
    table: ["dynamodb:GetItem", "dynamodb:UpdateItem"],
    stateKey: ["kms:VerifyMac"],
    dataKey: ["kms:GenerateDataKey", "kms:Decrypt"],
    // Auth: a relayed callback's bearer token must be the initiator's.
    settings: ["WebApp", "PublicApi", "Auth"],
  },
  // Legacy Google code exchange: opens the client secret, seals the tokens.
  GetTokenFromCode: {
    route: "POST /connectors/getTokenFromCode",
    handler: "functions/src/get-token-from-code.handler",
    table: ["dynamodb:GetItem", "dynamodb:UpdateItem"],
    dataKey: ["kms:GenerateDataKey", "kms:Decrypt"],
    settings: ["Auth"],
  },
} as const satisfies Record<string, HandlerAccess>;

export type HandlerName = keyof typeof handlers;
