import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  authorize,
  callCallback,
  consent,
  demoConnector,
  type Harness,
  startHarness,
} from "@connector-oauth/test-kit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../src/cli.ts";

let h: Harness;

async function cli(...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const env = { ...h.services.env, ALLOW_LOOPBACK_HTTP: "true" };
  const code = await runCli(argv, {
    env,
    cwd: process.cwd(),
    out: (l) => out.push(l),
    err: (l) => err.push(l),
  });
  return { code, out, err };
}

beforeAll(async () => {
  h = await startHarness();
  const p = h.provider;
  const endpoints = {
    authorizationUrl: p.authorizationUrl,
    tokenUrl: p.tokenUrl,
    issuer: p.issuer,
    revocationUrl: p.revocationUrl,
  };
  await h.define(
    ["c1", "c2"].map((connectorId) => demoConnector(p, { connectorId, orgId: "acme", endpoints })),
  );
  for (const id of ["c1", "c2"]) {
    const started = await authorize(h, id, await h.token({ sub: "alice", orgId: "acme", role: "admin" }));
    await callCallback(await consent(h, started.body.authorizationUrl as string));
  }
});
afterAll(() => h?.close());

describe("cli token commands", () => {
  it("prints an access token the provider accepts, and its details with --json", async () => {
    const { code, out } = await cli("access-token", "c1", "--org", "acme");
    expect(code).toBe(0);
    const me = await fetch(`${h.provider.issuer}/me`, { headers: { authorization: `Bearer ${out[0]}` } });
    expect(((await me.json()) as { sub: string }).sub).toBe("alice");
    const details = JSON.parse((await cli("access-token", "c1", "--org", "acme", "--json")).out.join("\n"));
    expect(details).toMatchObject({
      connectorId: "c1",
      orgId: "acme",
      tokenType: "bearer",
      accessToken: out[0],
    });
  });

  it("refreshes at the provider and then serves the new token", async () => {
    const before = (await cli("access-token", "c1", "--org", "acme")).out[0];
    const refreshes = h.provider.requests.filter((r) => r.grantType === "refresh_token").length;
    const { code, out } = await cli("refresh", "c1", "--org", "acme");
    expect(code).toBe(0);
    expect(out[0]).toMatch(/^refreshed c1 \(org acme\): access token expires \d{4}-/);
    expect(h.provider.requests.filter((r) => r.grantType === "refresh_token").length).toBe(refreshes + 1);
    expect((await cli("access-token", "c1", "--org", "acme")).out[0]).not.toBe(before);
  });

  it("disconnects: revokes at the provider and removes the tokens", async () => {
    const { code, out } = await cli("disconnect", "c1", "--org", "acme");
    expect(code).toBe(0);
    expect(out[0]).toContain("revocation at the provider: revoked");
    expect(h.provider.requests.at(-1)?.path).toBe("/token/revocation");
    const stored = await h.connectors.get("acme", "c1");
    expect(stored?.status).toBe("disconnected");
    expect(stored?.tokens).toBeUndefined();
    const after = await cli("access-token", "c1", "--org", "acme");
    expect(after.code).toBe(1);
    expect(after.err[0]).toMatch(/connector-oauth access-token: /);
  });

  it("put of a connected connector: a changed token URL removes its tokens and says so", async () => {
    const dir = await mkdtemp(join(tmpdir(), "connector-oauth-put-"));
    const file = join(dir, "c2.json");
    const p = h.provider;
    const moved = {
      authorizationUrl: p.authorizationUrl,
      tokenUrl: `${p.issuer}/token?moved=1`,
      issuer: p.issuer,
    };
    await writeFile(
      file,
      JSON.stringify([demoConnector(p, { connectorId: "c2", orgId: "acme", endpoints: moved })]),
    );
    expect((await h.connectors.get("acme", "c2"))?.status).toBe("authenticated");
    const { code, out } = await cli("put", file);
    expect(code).toBe(0);
    expect(out).toEqual([
      expect.stringMatching(/^saved c2 \(org acme, oauth2\): not_connected, version \d+; tokens removed/),
    ]);
    expect((await h.connectors.get("acme", "c2"))?.tokens).toBeUndefined();
  });

  it("refuses a missing connector id or org with usage exit code 2", async () => {
    expect((await cli("access-token", "--org", "acme")).code).toBe(2);
    expect((await cli("refresh", "c1")).code).toBe(2);
  });
});
