/**
 * Helpers for the token lifecycle tests: connecting a connector through the real handlers, token
 * access over the production adapters (dynalite, the local KMS), clocks the tests control, and the
 * requests the demo provider received.
 */
import { GetItemCommand } from "@aws-sdk/client-dynamodb";
import { unmarshall } from "@aws-sdk/util-dynamodb";
import { dynamoLeaseStore } from "@connector-oauth/aws";
import {
  type ConnectorRecord,
  createTokenAccess,
  type Log,
  openTokenSet,
  providers,
  type RefreshTiming,
} from "@connector-oauth/core";
import type { DemoProvider } from "@connector-oauth/demo-provider";
import {
  authorize,
  CLIENT,
  callCallback,
  demoConnector,
  type Harness,
  loginAtProvider,
} from "@connector-oauth/test-kit";
import { expect } from "vitest";

/** The demo provider's access tokens live an hour: this far ahead, one expires within 5 minutes. */
export const NEAR_EXPIRY_MS = 3600_000 - 2 * 60_000;

/** Defines a connector at `provider` (default: the harness's) and connects it as alice. */
export async function connectDemo(
  h: Harness,
  connectorId: string,
  options: { provider?: DemoProvider; endpoints?: Record<string, unknown> } = {},
): Promise<ConnectorRecord> {
  const provider = options.provider ?? h.provider;
  const endpoints = {
    authorizationUrl: provider.authorizationUrl,
    tokenUrl: provider.tokenUrl,
    issuer: provider.issuer,
    ...options.endpoints,
  };
  await h.define([demoConnector(provider, { connectorId, orgId: "acme", endpoints })]);
  const admin = await h.token({ sub: "alice", orgId: "acme", role: "admin" });
  const started = await authorize(h, connectorId, admin);
  const callbackUrl = await loginAtProvider(started.body.authorizationUrl as string, "alice", h.callbackUrl);
  const response = await callCallback(callbackUrl);
  expect(response.headers.get("location")).not.toContain("oauth_error");
  return (await h.connectors.get("acme", connectorId)) as ConnectorRecord;
}

/** A clock that moves only when the code sleeps; records every pause. */
export function steppedClock(start: number) {
  let now = start;
  const sleeps: number[] = [];
  return {
    sleeps,
    now: () => now,
    sleep: async (ms: number) => {
      sleeps.push(ms);
      now += ms;
    },
  };
}

/** Real time shifted by `offsetMs`, with real pauses. */
export function shiftedClock(offsetMs: number) {
  return {
    now: () => Date.now() + offsetMs,
    sleep: (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)),
  };
}

export function capturingLog(): Log & { lines: string[] } {
  const lines: string[] = [];
  const record = (level: string) => (message: string, details?: Record<string, unknown>) => {
    lines.push(JSON.stringify({ level, message, ...details }));
  };
  return { lines, info: record("info"), warn: record("warn"), error: record("error") };
}

/** Token access over the harness's services; each call is a separate "process" (own owner ids). */
export function tokenAccess(
  h: Harness,
  clock: { now: () => number; sleep: (ms: number) => Promise<void> },
  options: { log?: Log; timing?: Partial<RefreshTiming> } = {},
) {
  return createTokenAccess({
    connectors: h.connectors,
    leases: dynamoLeaseStore(h.services.dynamo, h.services.tableName),
    dataKeys: h.dataKeys,
    catalog: { catalog: providers, allowLoopbackHttp: true },
    now: clock.now,
    sleep: clock.sleep,
    log: options.log ?? capturingLog(),
    timing: options.timing,
  });
}

export function refreshRequests(provider: DemoProvider) {
  return provider.requests.filter((r) => r.path === "/token" && r.grantType === "refresh_token");
}

export function revocationRequests(provider: DemoProvider) {
  return provider.requests.filter((r) => r.path === "/token/revocation");
}

export async function storedSecrets(h: Harness, connectorId: string) {
  const record = (await h.connectors.get("acme", connectorId)) as ConnectorRecord;
  return { record, ...(await openTokenSet(h.dataKeys, record)) };
}

/** The raw connector item and its lease item, as DynamoDB holds them. */
export async function rawItems(h: Harness, connectorId: string) {
  const get = async (sk: string) => {
    const result = await h.services.dynamo.send(
      new GetItemCommand({
        TableName: h.services.tableName,
        Key: { pk: { S: "ORG#acme" }, sk: { S: sk } },
        ConsistentRead: true,
      }),
    );
    return result.Item && unmarshall(result.Item);
  };
  return { connector: await get(`CONNECTOR#${connectorId}`), lease: await get(`LEASE#${connectorId}`) };
}

/** Whether the provider still considers `token` active (RFC 7662 introspection). */
export async function isActive(provider: DemoProvider, token: string): Promise<boolean> {
  const response = await fetch(`${provider.issuer}/token/introspection`, {
    method: "POST",
    body: new URLSearchParams({ token, client_id: CLIENT.clientId, client_secret: CLIENT.clientSecret }),
  });
  return ((await response.json()) as { active: boolean }).active;
}

/** Revokes a token at the provider directly, as a user removing the app's access would. */
export async function revokeAtProvider(provider: DemoProvider, token: string): Promise<void> {
  const response = await fetch(provider.revocationUrl, {
    method: "POST",
    body: new URLSearchParams({ token, client_id: CLIENT.clientId, client_secret: CLIENT.clientSecret }),
  });
  expect(response.status).toBe(200);
}
