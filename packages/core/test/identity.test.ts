/**
 * Reading who consented from each identity source (catalog `identity`), and the personal-connector
 * rule. The endpoint source runs against oidc-provider in functions/test/security.test.ts.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { exportJWK, generateKeyPair, SignJWT } from "jose";
import type { TokenEndpointResponse } from "oauth4webapi";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Catalog, resolveProvider } from "../src/catalog.ts";
import { identifyAccount, mayConnectAs, mustIdentify } from "../src/identity.ts";
import { normalizeTokenBody } from "../src/token-adapter.ts";
import { connector } from "./fixtures.ts";

const log = { info() {}, warn() {}, error() {} };
let jwksUrl = "";
let privateKey: CryptoKey;
const server = createServer();

beforeAll(async () => {
  const pair = await generateKeyPair("RS256");
  privateKey = pair.privateKey as CryptoKey;
  const jwk = { ...(await exportJWK(pair.publicKey)), kid: "k1", alg: "RS256", use: "sig" };
  server.on("request", (_req, res) => res.end(JSON.stringify({ keys: [jwk] })));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  jwksUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks`;
});
afterAll(() => new Promise((resolve) => server.close(resolve)));

function catalog(identity: NonNullable<Catalog[string]["identity"]>, extra = {}): Catalog {
  return {
    p: {
      name: "P",
      docs: "test",
      authorizationUrl: "https://p.example.com/a",
      tokenUrl: "https://p.example.com/t",
      defaultScopes: [],
      identity,
      ...extra,
    },
  };
}

describe("connected account", () => {
  it("reads token_response paths from the raw response (Slack authed_user.id) and keeps no token", async () => {
    const entries = catalog(
      { source: "token_response", id: "authed_user.id", name: "team.name" },
      {
        tokenResponse: { tokenSetPath: "authed_user" },
      },
    );
    const body = {
      ok: true,
      team: { id: "T1", name: "Acme" },
      authed_user: { id: "U123", access_token: "xoxp-secret", token_type: "user" },
    };
    const normalized = normalizeTokenBody(entries.p as never, 200, body)
      .body as unknown as TokenEndpointResponse;
    expect(JSON.stringify(normalized.x_connector_identity)).not.toContain("xoxp");
    const provider = resolveProvider(connector("p"), { catalog: entries, allowLoopbackHttp: false });
    const identity = await identifyAccount(provider, normalized, { clientId: "c", connectorId: "c1", log });
    expect(identity).toEqual({ account: { id: "U123", name: "Acme" } });
  });

  it("reads the verified id_token's claims; an id_token signed by another key is unreadable", async () => {
    const issuer = "https://issuer.example.com";
    const entries = catalog(
      { source: "id_token", id: "sub", email: "email", emailVerified: "email_verified" },
      { issuer, jwksUrl },
    );
    const provider = resolveProvider(connector("p"), { catalog: entries, allowLoopbackHttp: true });
    const sign = (key: CryptoKey) =>
      new SignJWT({ email: "bob@example.com", email_verified: true })
        .setProtectedHeader({ alg: "RS256", kid: "k1" })
        .setSubject("bob-1")
        .setIssuer(issuer)
        .setAudience("client-1")
        .setIssuedAt()
        .setExpirationTime("5m")
        .sign(key);
    const response = (idToken: string) =>
      ({ access_token: "at", token_type: "bearer", id_token: idToken }) as never;
    const context = { clientId: "client-1", connectorId: "c1", log };
    expect(await identifyAccount(provider, response(await sign(privateKey)), context)).toEqual({
      account: { id: "bob-1", email: "bob@example.com", emailVerified: true },
    });
    const forger = (await generateKeyPair("RS256")).privateKey as CryptoKey;
    expect(await identifyAccount(provider, response(await sign(forger)), context)).toEqual({
      unreadable: true,
    });
  });

  it("enforces the initiator's email on personal connectors only, and only for verified emails", () => {
    const bob = { id: "b", email: "Bob@example.com", emailVerified: true };
    const flow = { initiatorEmail: "alice@example.com" };
    expect(mayConnectAs({ scope: "personal" }, flow, bob)).toBe(false);
    expect(mayConnectAs({ scope: "personal" }, { initiatorEmail: "bob@EXAMPLE.com" }, bob)).toBe(true);
    expect(mayConnectAs({ scope: "team" }, flow, bob)).toBe(true);
    expect(mayConnectAs({ scope: "personal" }, flow, { ...bob, emailVerified: false })).toBe(true);
    expect(mayConnectAs({ scope: "personal" }, flow, undefined)).toBe(true);
    // Where the check applies, an account that cannot be read must end the flow (connect.ts).
    expect(mustIdentify({ scope: "personal" }, flow)).toBe(true);
    expect(mustIdentify({ scope: "personal" }, {})).toBe(false);
    expect(mustIdentify({ scope: "team" }, flow)).toBe(false);
  });
});
