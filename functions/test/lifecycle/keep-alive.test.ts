import { UpdateItemCommand } from "@aws-sdk/client-dynamodb";
import { marshall } from "@aws-sdk/util-dynamodb";
import { type Harness, startHarness } from "@connector-oauth/test-kit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { keepAliveJob } from "../../src/jobs/keep-alive.ts";
import { connectDemo, refreshRequests, revokeAtProvider, storedSecrets } from "./support.ts";

let h: Harness;
let handler: ReturnType<typeof keepAliveJob>;
const DAY_MS = 24 * 3600_000;

/** An hour-long token obtained 59 minutes ago, as time passing would leave it. */
async function ageToken(connectorId: string) {
  await setTokenField(connectorId, "obtainedAt", Date.now() - 59 * 60_000);
  await setTokenField(connectorId, "expiresAt", Date.now() + 60_000);
}

/** Rewrites one field of a connector's stored token set. */
async function setTokenField(connectorId: string, field: "expiresAt" | "obtainedAt", at: number) {
  await h.services.dynamo.send(
    new UpdateItemCommand({
      TableName: h.services.tableName,
      Key: marshall({ pk: "ORG#acme", sk: `CONNECTOR#${connectorId}` }),
      UpdateExpression: "SET tokens.#field = :at",
      ExpressionAttributeNames: { "#field": field },
      ExpressionAttributeValues: marshall({ ":at": new Date(at).toISOString() }),
    }),
  );
}

const lambdaContext = (remainingMs: number) => ({ getRemainingTimeInMillis: () => remainingMs });

beforeAll(async () => {
  h = await startHarness();
  handler = keepAliveJob(h.env);
});
afterAll(() => h?.close());

describe("keep-alive handler", () => {
  it("starts nothing when the invocation is too close to its timeout", async () => {
    await connectDemo(h, "ka-early");
    await ageToken("ka-early");
    const before = refreshRequests(h.provider).length;
    const summary = await handler({}, lambdaContext(10_000));
    expect(summary).toMatchObject({ examined: 0, stoppedEarly: true });
    expect(refreshRequests(h.provider).length).toBe(before);
  });

  it("refreshes tokens about to expire, touches idle grants, and reports rejected grants", async () => {
    for (const id of ["ka-expiring", "ka-idle", "ka-fresh", "ka-revoked"]) await connectDemo(h, id);
    await h.define([
      {
        connectorId: "ka-never",
        orgId: "acme",
        provider: "oauth2",
        scope: "team",
        createdBy: "alice",
        clientId: "x",
        endpoints: { authorizationUrl: h.provider.authorizationUrl, tokenUrl: h.provider.tokenUrl },
      },
    ]);
    await ageToken("ka-expiring");
    await setTokenField("ka-idle", "obtainedAt", Date.now() - 40 * DAY_MS);
    await ageToken("ka-revoked");
    await revokeAtProvider(h.provider, (await storedSecrets(h, "ka-revoked")).refreshToken as string);
    const before = await Promise.all(
      ["ka-early", "ka-expiring", "ka-idle", "ka-fresh"].map((id) => storedSecrets(h, id)),
    );
    const sentBefore = refreshRequests(h.provider).length;

    const summary = await handler({}, lambdaContext(300_000));

    // ka-early (expiring since the first test) is refreshed too; ka-never is not connected.
    expect(summary).toEqual({ examined: 5, refreshed: 3, needsReauth: 1, failed: 0, stoppedEarly: false });
    const used = refreshRequests(h.provider)
      .slice(sentBefore)
      .map((r) => r.params.refresh_token);
    const [early, expiring, idle, fresh] = before;
    expect(used).toHaveLength(4);
    expect(used).toEqual(
      expect.arrayContaining([early?.refreshToken, expiring?.refreshToken, idle?.refreshToken]),
    );
    expect(used).not.toContain(fresh?.refreshToken);
    expect((await storedSecrets(h, "ka-fresh")).accessToken).toBe(fresh?.accessToken);
    expect((await storedSecrets(h, "ka-idle")).accessToken).not.toBe(idle?.accessToken);
    const expiresAt = (await h.connectors.get("acme", "ka-expiring"))?.tokens?.expiresAt ?? "";
    expect(Date.parse(expiresAt) - Date.now()).toBeGreaterThan(3500_000);
    expect((await h.connectors.get("acme", "ka-revoked"))?.status).toBe("needs_reauth");
  });
});
