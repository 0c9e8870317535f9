import { openTokenSet } from "@connector-oauth/core";
import {
  APP_ORIGIN,
  authorize,
  callCallback,
  consent,
  demoConnector,
  type Harness,
  OTHER_APP_ORIGIN,
  startHarness,
  tokenRequests,
} from "@connector-oauth/test-kit";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";

let h: Harness;
let adminToken: string;
let counter = 0;

/** A fresh connector per test, so outcomes never mix. */
async function newConnector(fields: Record<string, unknown> = {}) {
  const connectorId = `demo-${++counter}`;
  await h.define([demoConnector(h.provider, { connectorId, orgId: "acme", ...fields })]);
  return connectorId;
}

async function startFlow(connectorId: string, query = "") {
  const started = await authorize(h, connectorId, adminToken, query);
  expect(started.status).toBe(200);
  return { url: started.body.authorizationUrl as string, state: started.body.state as string };
}

function errorLocation(code: string, connectorId: string, origin = APP_ORIGIN) {
  return `${origin}/connectors/oauth/callback?oauth_error=${code}&connectorId=${connectorId}`;
}

beforeAll(async () => {
  h = await startHarness();
  adminToken = await h.token({ sub: "alice", orgId: "acme", role: "admin", email: "alice@example.com" });
});
afterAll(() => h?.close());
afterEach(() => {
  vi.useRealTimers();
});

describe("callback", () => {
  it("stores exactly the tokens the provider issued when the user consents", async () => {
    const id = await newConnector();
    const { url } = await startFlow(id);
    const params = new URL(url).searchParams;
    expect(params.get("code_challenge_method")).toBe("S256");
    expect(params.get("redirect_uri")).toBe(h.callbackUrl);
    const callbackUrl = await consent(h, url);
    const before = tokenRequests(h).length;
    const response = await callCallback(callbackUrl);
    expect(response.status).toBe(302);
    expect(response.headers.get("location")).toBe(
      `${APP_ORIGIN}/account/company-settings/settings/connector/${id}`,
    );
    expect(tokenRequests(h).length).toBe(before + 1);
    const stored = await h.connectors.get("acme", id);
    expect(stored?.status).toBe("authenticated");
    expect(stored?.tokens?.scopes).toEqual(expect.arrayContaining(["openid", "email"]));
    expect(Date.parse(stored?.tokens?.expiresAt ?? "") - Date.now()).toBeGreaterThan(3500_000);
    const secrets = await openTokenSet(h.dataKeys, stored as NonNullable<typeof stored>);
    // The provider itself recognises the stored access token as the one it issued to alice.
    const me = await fetch(`${h.provider.issuer}/me`, {
      headers: { authorization: `Bearer ${secrets.accessToken}` },
    });
    expect(((await me.json()) as { sub: string }).sub).toBe("alice");
    const introspected = await fetch(`${h.provider.issuer}/token/introspection`, {
      method: "POST",
      body: new URLSearchParams({
        token: secrets.refreshToken ?? "",
        client_id: "connector-client",
        client_secret: "client-secret-value-7f3a9c",
      }),
    });
    expect(((await introspected.json()) as { active: boolean }).active).toBe(true);
  });

  it("answers every callback with no-store, no-referrer and nosniff", async () => {
    const id = await newConnector();
    const { url } = await startFlow(id);
    const response = await callCallback(await consent(h, url));
    expect(response.headers.get("cache-control")).toBe("no-store");
    expect(response.headers.get("referrer-policy")).toBe("no-referrer");
    expect(response.headers.get("x-content-type-options")).toBe("nosniff");
  });

  it("rejects a state with any byte changed with 400 and no provider request", async () => {
    const id = await newConnector();
    const { url, state } = await startFlow(id);
    const callbackUrl = new URL(await consent(h, url));
    const before = tokenRequests(h).length;
    const statuses = new Set<number>();
    for (let i = 0; i < state.length; i++) {
      const flipped = state.slice(0, i) + (state[i] === "A" ? "B" : "A") + state.slice(i + 1);
      callbackUrl.searchParams.set("state", flipped);
      const response = await callCallback(callbackUrl.href, i % 2 ? "application/json" : undefined);
      statuses.add(response.status);
      if (i === 0) expect(response.text).toContain("Connection not completed");
      if (i === 1) expect(JSON.parse(response.text).error.code).toBe("invalid_state");
    }
    expect([...statuses]).toEqual([400]);
    expect(tokenRequests(h).length).toBe(before);
    expect(
      (await h.flows.get(JSON.parse(Buffer.from(state.split(".")[1] as string, "base64url").toString()).n))
        ?.status,
    ).toBe("pending");
  });

  it("answers a missing or garbage state with the 400 page and no redirect", async () => {
    for (const query of ["", "?code=abc", "?state=v1.abc.def&code=x", "?state=%00"]) {
      const response = await callCallback(`${h.callbackUrl}${query}`);
      expect(response.status).toBe(400);
      expect(response.headers.get("location")).toBeNull();
      expect(response.headers.get("content-security-policy")).toContain("default-src 'none'");
      expect(response.text).not.toMatch(/https?:\/\/(?!app\.example\.com)/);
    }
  });

  it("redirects with state_expired when the state is older than ten minutes", async () => {
    const id = await newConnector();
    const { url } = await startFlow(id);
    const callbackUrl = await consent(h, url);
    const before = tokenRequests(h).length;
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(Date.now() + 10 * 60_000 + 1_000);
    const response = await callCallback(callbackUrl);
    expect(response.status).toBe(302);
    expect(response.headers.get("location")).toBe(errorLocation("state_expired", id));
    expect(tokenRequests(h).length).toBe(before);
    expect((await h.connectors.get("acme", id))?.status).toBe("not_connected");
  });

  it("answers a replay after expiry with the first outcome, not state_expired", async () => {
    const id = await newConnector();
    const { url } = await startFlow(id);
    const callbackUrl = await consent(h, url);
    const first = await callCallback(callbackUrl);
    const before = tokenRequests(h).length;
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(Date.now() + 60 * 60_000);
    const replay = await callCallback(callbackUrl);
    expect(replay.headers.get("location")).toBe(first.headers.get("location"));
    expect(replay.headers.get("location")).toContain(`/connector/${id}`);
    expect(tokenRequests(h).length).toBe(before);
  });

  it("answers a replayed callback with the first outcome and no second exchange", async () => {
    const id = await newConnector();
    const { url } = await startFlow(id);
    const callbackUrl = await consent(h, url);
    const before = tokenRequests(h).length;
    const first = await callCallback(callbackUrl);
    const second = await callCallback(callbackUrl);
    expect(second.status).toBe(302);
    expect(second.headers.get("location")).toBe(first.headers.get("location"));
    expect(tokenRequests(h).length).toBe(before + 1);
  });

  it("exchanges the code exactly once when 10 callbacks with one state arrive together", async () => {
    const id = await newConnector();
    const { url } = await startFlow(id);
    const callbackUrl = await consent(h, url);
    const before = tokenRequests(h).length;
    const responses = await Promise.all(Array.from({ length: 10 }, () => callCallback(callbackUrl)));
    expect(tokenRequests(h).length).toBe(before + 1);
    const success = `${APP_ORIGIN}/account/company-settings/settings/connector/${id}`;
    expect(responses.map((r) => r.headers.get("location"))).toEqual(Array(10).fill(success));
  });

  it("redirects with access_denied, consumes the state and stores nothing when the user declines", async () => {
    const id = await newConnector();
    const { state } = await startFlow(id);
    const denied = new URL(h.callbackUrl);
    denied.search = new URLSearchParams({
      error: "access_denied",
      error_description: "<script>x</script>",
      state,
      iss: h.provider.issuer,
    }).toString();
    const response = await callCallback(denied.href);
    expect(response.headers.get("location")).toBe(errorLocation("access_denied", id));
    expect(response.headers.get("location")).not.toContain("script");
    expect((await h.connectors.get("acme", id))?.status).toBe("not_connected");
    const replay = new URL(h.callbackUrl);
    replay.search = new URLSearchParams({ code: "any", state, iss: h.provider.issuer }).toString();
    expect((await callCallback(replay.href)).headers.get("location")).toBe(
      errorLocation("access_denied", id),
    );
  });

  it("maps any other provider error to provider_error without reflecting its text", async () => {
    const id = await newConnector();
    const { state } = await startFlow(id);
    const query = new URLSearchParams({ error: "temporarily_unavailable\r\nSet-Cookie: x", state });
    const response = await callCallback(`${h.callbackUrl}?${query}`);
    expect(response.headers.get("location")).toBe(errorLocation("provider_error", id));
  });

  it("rejects an iss that is not the provider's with iss_mismatch and no exchange", async () => {
    const id = await newConnector();
    const { url } = await startFlow(id);
    const callbackUrl = new URL(await consent(h, url));
    expect(callbackUrl.searchParams.get("iss")).toBe(h.provider.issuer);
    callbackUrl.searchParams.set("iss", "https://attacker.example");
    const before = tokenRequests(h).length;
    const response = await callCallback(callbackUrl.href);
    expect(response.headers.get("location")).toBe(errorLocation("iss_mismatch", id));
    expect(tokenRequests(h).length).toBe(before);
  });

  it("rejects duplicated state, code or iss parameters with 400", async () => {
    const id = await newConnector();
    const { url } = await startFlow(id);
    const callbackUrl = await consent(h, url);
    const params = new URL(callbackUrl).searchParams;
    const before = tokenRequests(h).length;
    for (const name of ["state", "code", "iss"]) {
      const response = await callCallback(
        `${callbackUrl}&${name}=${encodeURIComponent(params.get(name) ?? "")}`,
      );
      expect(response.status).toBe(400);
    }
    expect(tokenRequests(h).length).toBe(before);
  });

  it("returns the JSON outcome instead of a redirect when asked for JSON", async () => {
    const id = await newConnector();
    const { url } = await startFlow(id, `?baseUrl=${encodeURIComponent(OTHER_APP_ORIGIN)}`);
    const response = await callCallback(await consent(h, url), "application/json");
    expect(response.status).toBe(200);
    expect(JSON.parse(response.text)).toEqual({
      success: true,
      connectorId: id,
      redirectUrl: `${OTHER_APP_ORIGIN}/account/company-settings/settings/connector/${id}`,
    });
  });

  it("ignores a baseUrl on the callback: the return origin is the one bound in the state", async () => {
    const id = await newConnector();
    const { url } = await startFlow(id);
    const response = await callCallback(
      `${await consent(h, url)}&baseUrl=${encodeURIComponent("https://evil.example")}`,
    );
    expect(response.headers.get("location")?.startsWith(`${APP_ORIGIN}/`)).toBe(true);
  });

  it("cannot complete one connector with another connector's code", async () => {
    const a = await newConnector();
    const b = await newConnector();
    const flowA = await startFlow(a);
    const flowB = await startFlow(b);
    const codeForB = new URL(await consent(h, flowB.url)).searchParams.get("code") ?? "";
    const mixed = new URLSearchParams({ code: codeForB, state: flowA.state, iss: h.provider.issuer });
    const response = await callCallback(`${h.callbackUrl}?${mixed}`);
    expect(response.headers.get("location")).toBe(errorLocation("token_exchange_failed", a));
    expect((await h.connectors.get("acme", a))?.status).toBe("not_connected");
    expect((await h.connectors.get("acme", b))?.status).toBe("not_connected");
  });

  it("lets two pending flows for one connector both complete", async () => {
    const id = await newConnector();
    const first = await startFlow(id);
    const second = await startFlow(id);
    expect((await callCallback(await consent(h, second.url))).headers.get("location")).toContain(
      "/connector/",
    );
    expect((await callCallback(await consent(h, first.url))).headers.get("location")).toContain(
      "/connector/",
    );
  });
});
