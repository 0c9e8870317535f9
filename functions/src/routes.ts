/**
 * The route table: every API Gateway route, the function that serves it, and exactly what that
 * function may touch. This is the one place to add a route or change a handler's DynamoDB or KMS
 * actions or the settings it receives. Its readers:
 * - stacks/api.ts turns each entry into the route, the function's links, its IAM statements and its
 *   statements in each key's policy (test/infra/iam.test.ts records the calls a handler makes and
 *   evaluates them against what is granted here);
 * - functions/src/app.ts builds each entry's handler with `needsOf(entry)` for local mode and tests;
 * - each Lambda entry (functions/src/<route>.ts) composes its handler with the same needs.
 *
 * Pure data (no SST globals, no imports with side effects), so the stacks can read it at deploy time.
 */
import type { Need } from "@connector-oauth/config";
export type SettingsLink = "WebApp" | "PublicApi" | "Auth";

/**
 * Partition-key prefixes of the table's items (packages/aws/src/dynamo.ts, leases.ts): the one place
 * to change them. Grants name them through `dynamodb:LeadingKeys`, so a grant on connector items
 * cannot reach flow records and the other way round.
 */
export const ITEMS = {
  /** Connector items (sk CONNECTOR#<id>) and refresh leases (sk LEASE#<id>) of one org. */
  org: "ORG#*",
  /** Flow records, one partition per state nonce. */
  flow: "FLOW#*",
  /** A user's pending-flow slots (packages/aws/src/dynamo.ts), apart from connectors. */
  slots: "SLOTS#*",
} as const;

/** The `purpose` of each envelope's encryption context (packages/core/src/envelope.ts, tokens.ts). */
export const PURPOSES = { clientSecret: "client-secret", tokens: "tokens" } as const;
export type Purpose = (typeof PURPOSES)[keyof typeof PURPOSES];

/** Actions on the table's items whose partition key matches one of `items`. */
export interface TableGrant {
  actions: readonly `dynamodb:${string}`[];
  items: readonly (typeof ITEMS)[keyof typeof ITEMS][];
}

/** Actions on the data key, for encryption contexts whose purpose is one of `purposes`. */
export interface DataKeyGrant {
  actions: readonly `kms:${string}`[];
  purposes: readonly Purpose[];
}

export interface HandlerAccess {
  /** API Gateway route key, "METHOD /path". */
  route: `${"GET" | "POST" | "PUT" | "DELETE"} /${string}`;
  /** The Lambda entry's handler from the repository root, as SST expects it. */
  handler: `functions/src/${string}.handler`;
  /** Item actions on the table ARN, per key prefix. */
  table: readonly TableGrant[];
  /** Actions on the HMAC state key ARN; absent: no access and no link. */
  stateKey?: readonly `kms:${string}`[];
  /** Actions on the envelope data key ARN, per purpose; absent: no access and no link. */
  dataKey?: readonly DataKeyGrant[];
  /** Stage settings linked to the function (see stacks/settings.ts). */
  settings: readonly SettingsLink[];
  /** The route's own throttle (API Gateway stage route settings), sized in docs/deploy.md#flooding. */
  throttle: Throttle;
  /**
   * True: API Gateway's IAM authorizer (SigV4, `execute-api:Invoke`) guards the route, no JWT. For
   * services, not people; local mode checks the signature against its local credentials.
   */
  iam?: boolean;
}

/** Requests per second sustained, and the bucket size for bursts, for the whole route (all clients). */
export interface Throttle {
  ratePerSecond: number;
  burst: number;
}

/**
 * Connects: 10/s is 36,000 connects an hour, far above any onboarding peak; a flood of forged states
 * at that ceiling costs about $3.60 a day (one KMS VerifyMac each; docs/deploy.md#flooding).
 */
const CONNECT_THROTTLE: Throttle = { ratePerSecond: 10, burst: 20 };

/** Opening the connector's client secret and sealing the tokens the provider returned. */
const SEAL_NEW_TOKENS: readonly DataKeyGrant[] = [
  { actions: ["kms:Decrypt"], purposes: [PURPOSES.clientSecret] },
  { actions: ["kms:GenerateDataKey"], purposes: [PURPOSES.tokens] },
];

/**
 * The connectors API: what the embedding product's own pages and users call. Sized for a product's
 * admin screens and connector pickers, not for bulk traffic (the token API serves the workers).
 */
const MANAGE_THROTTLE: Throttle = { ratePerSecond: 20, burst: 40 };

/**
 * What the token operations send (packages/aws dynamo.ts, leases.ts, kms.ts, through the core's
 * token access, refresh, disconnect and keep-alive): the token API's grants here, and the keep-alive
 * job's and the token consumer role's in stacks/lifecycle.ts.
 */
export const TOKEN_ACCESS = {
  // Connector reads and versioned writes, the refresh lease (PutItem takes it, DeleteItem frees it):
  // all under ORG#<orgId>; flow records stay out of reach.
  table: [
    {
      actions: ["dynamodb:GetItem", "dynamodb:UpdateItem", "dynamodb:PutItem", "dynamodb:DeleteItem"],
      items: [ITEMS.org],
    },
  ],
  dataKey: [
    // Opening tokens (and client secrets, for a refresh or a revocation)...
    { actions: ["kms:Decrypt"], purposes: [PURPOSES.clientSecret, PURPOSES.tokens] },
    // ...and sealing refreshed tokens; nothing seals a client secret here.
    { actions: ["kms:GenerateDataKey"], purposes: [PURPOSES.tokens] },
  ],
} as const satisfies { table: readonly TableGrant[]; dataKey: readonly DataKeyGrant[] };

export const handlers = {
  // Starts a flow: reads the connector, takes one of the user's pending slots (UpdateItem, or
  // GetItem + PutItem), writes the flow record, signs the state.
  Authorize: {
    route: "GET /connectors/{connectorId}/oauth/authorize",
    handler: "functions/src/authorize.handler",
    table: [
      { actions: ["dynamodb:GetItem"], items: [ITEMS.org] },
      // GetItem: a full slot map's flows are read before refusing; a failed flow write reads back.
      { actions: ["dynamodb:GetItem", "dynamodb:PutItem"], items: [ITEMS.flow] },
      { actions: ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"], items: [ITEMS.slots] },
    ],
    stateKey: ["kms:GenerateMac"],
    settings: ["WebApp", "PublicApi", "Auth"],
    throttle: CONNECT_THROTTLE,
  },
  // Finishes a flow: verifies the state (and a relay's bearer), consumes and reads the flow (it
  // carries the connector's configuration, so the usual callback reads no connector), opens the
  // client secret, seals and stores the tokens. GetItem on the connector: a repeated callback reads
  // whether its flow's tokens were stored (settling a flow whose holder died or whose outcome write
  // failed) and the account they name.
  Callback: {
    route: "GET /connectors/oauth/callback",
    handler: "functions/src/callback.handler",
    table: [
      { actions: ["dynamodb:GetItem", "dynamodb:UpdateItem"], items: [ITEMS.flow] },
      { actions: ["dynamodb:GetItem", "dynamodb:UpdateItem"], items: [ITEMS.org] },
    ],
    stateKey: ["kms:VerifyMac"],
    dataKey: SEAL_NEW_TOKENS,
    // Auth: a relayed callback's bearer token must be the initiator's.
    settings: ["WebApp", "PublicApi", "Auth"],
    // One callback per connect; unauthenticated, so this is also the flood ceiling.
    throttle: CONNECT_THROTTLE,
  },
  // Legacy Google code exchange: reads the connector, opens the client secret, seals the tokens.
  GetTokenFromCode: {
    route: "POST /connectors/getTokenFromCode",
    handler: "functions/src/get-token-from-code.handler",
    table: [{ actions: ["dynamodb:GetItem", "dynamodb:UpdateItem"], items: [ITEMS.org] }],
    dataKey: SEAL_NEW_TOKENS,
    settings: ["Auth"],
    // Org admins only, once per Google Workspace connection.
    throttle: { ratePerSecond: 2, burst: 5 },
  },
  // Creates or updates a definition: reads the connector, seals a new client secret, writes the
  // definition in one conditional UpdateItem (which also removes tokens a re-pointing change voids).
  ConnectorPut: {
    route: "PUT /connectors/{connectorId}",
    handler: "functions/src/connector-put.handler",
    table: [{ actions: ["dynamodb:GetItem", "dynamodb:UpdateItem"], items: [ITEMS.org] }],
    dataKey: [{ actions: ["kms:GenerateDataKey"], purposes: [PURPOSES.clientSecret] }],
    settings: ["Auth"],
    throttle: MANAGE_THROTTLE,
  },
  // Reads one connector: no key, no write.
  ConnectorGet: {
    route: "GET /connectors/{connectorId}",
    handler: "functions/src/connector-get.handler",
    table: [{ actions: ["dynamodb:GetItem"], items: [ITEMS.org] }],
    settings: ["Auth"],
    throttle: MANAGE_THROTTLE,
  },
  // Lists the org's connectors page by page (Query on the org's partition): no key, no write.
  ConnectorList: {
    route: "GET /connectors",
    handler: "functions/src/connector-list.handler",
    table: [{ actions: ["dynamodb:Query"], items: [ITEMS.org] }],
    settings: ["Auth"],
    throttle: MANAGE_THROTTLE,
  },
  // Deletes a connector: disconnects it first (under the refresh lease: PutItem takes it, DeleteItem
  // frees it; opens the tokens and client secret to revoke at the provider; UpdateItem removes the
  // tokens), then DeleteItem on the definition.
  ConnectorDelete: {
    route: "DELETE /connectors/{connectorId}",
    handler: "functions/src/connector-delete.handler",
    table: [
      {
        actions: ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"],
        items: [ITEMS.org],
      },
    ],
    dataKey: [{ actions: ["kms:Decrypt"], purposes: [PURPOSES.clientSecret, PURPOSES.tokens] }],
    settings: ["Auth"],
    throttle: MANAGE_THROTTLE,
  },
  // Sync workers' token API: reads the connector and, when its token expires within the margin,
  // refreshes under the lease (PutItem takes it, DeleteItem frees it), opening the client secret
  // and the refresh token and sealing the new set; a rejected grant is marked needs_reauth.
  // Exactly what getAccessToken / refresh use (stacks/lifecycle.ts tokenAccess); no state key.
  AccessToken: {
    route: "POST /internal/orgs/{orgId}/connectors/{connectorId}/access-token",
    handler: "functions/src/access-token.handler",
    iam: true,
    table: TOKEN_ACCESS.table,
    dataKey: TOKEN_ACCESS.dataKey,
    settings: [],
    // Workers ask before each sync batch and reuse the token until near expiry: 50/s sustained
    // (180,000 calls an hour) serves thousands of connectors; only IAM principals of the account
    // reach it, and a fresh token costs one GetItem and one Decrypt (data keys are cached).
    throttle: { ratePerSecond: 50, burst: 100 },
  },
} as const satisfies Record<string, HandlerAccess>;

export type HandlerName = keyof typeof handlers;

export type Route = (typeof handlers)[HandlerName];

/** What the function's composition must build: exactly what it is linked to, nothing more. */
export function needsOf(access: HandlerAccess): Need[] {
  const needs: Need[] = [];
  if (access.stateKey) needs.push("stateKey");
  if (access.dataKey) needs.push("dataKey");
  if (access.settings.includes("WebApp") || access.settings.includes("PublicApi")) needs.push("connect");
  if (access.settings.includes("Auth")) needs.push("auth");
  return needs;
}

/** The route key split into its method and path. */
export function methodAndPath(access: HandlerAccess): { method: string; path: string } {
  const [method = "", path = ""] = access.route.split(" ");
  return { method, path };
}
