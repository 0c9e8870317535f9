import { describe, expect, it } from "vitest";
import { type CatalogOptions, resolveProvider } from "../../src/catalog.ts";
import {
  callWithRetries,
  classifyFailure,
  type RetryPolicy,
  refreshGrant,
  revokeToken,
} from "../../src/lifecycle/provider-calls.ts";
import { providers } from "../../src/providers.ts";
import { METADATA_FIELD } from "../../src/token-adapter.ts";
import { connector } from "../fixtures.ts";

const catalog: CatalogOptions = { catalog: providers, allowLoopbackHttp: false };
const client = { clientId: "client-1", clientSecret: "secret-1" };
const policy: RetryPolicy = { maxAttempts: 4, baseDelayMs: 100, maxDelayMs: 350, attemptTimeoutMs: 1_000 };

const custom = resolveProvider(
  connector("oauth2", {
    endpoints: {
      authorizationUrl: "https://idp.example.com/authorize",
      tokenUrl: "https://idp.example.com/token",
      revocationUrl: "https://idp.example.com/revoke",
    },
  }),
  catalog,
);
const slack = resolveProvider(connector("slack"), catalog);
const notion = resolveProvider(connector("notion"), catalog);

interface Sent {
  url: string;
  headers: Headers;
  body: string;
}

/** A fetch that answers from a script, in order, and records what it was sent (no network). */
function scripted(...answers: (Response | Error)[]) {
  const sent: Sent[] = [];
  const impl = async (input: string | URL | Request, init?: RequestInit) => {
    sent.push({ url: String(input), headers: new Headers(init?.headers), body: String(init?.body ?? "") });
    const answer = answers.shift();
    if (!answer) throw new Error("no scripted answer left");
    if (answer instanceof Error) throw answer;
    return answer;
  };
  return { sent, fetch: impl as typeof fetch };
}

const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  Response.json(body, { status, headers });

/** One attempt as production makes it (through callWithRetries' timeout and network guard). */
async function refreshOutcome(provider = custom, ...answers: (Response | Error)[]) {
  const { fetch } = scripted(...answers);
  const outcome = await callWithRetries(
    (fetchImpl) => refreshGrant(provider, client, "rt-1", { allowLoopbackHttp: false, fetch: fetchImpl }),
    { policy: { ...policy, maxAttempts: 1 }, fetch, sleep: async () => {} },
  );
  return outcome.ok ? "ok" : classifyFailure(outcome.error);
}

describe("classifyFailure", () => {
  it("calls a grant rejected when the provider says invalid_grant or a Slack equivalent", async () => {
    expect(await refreshOutcome(custom, json(400, { error: "invalid_grant" }))).toBe("rejected");
    for (const error of ["invalid_refresh_token", "token_revoked", "token_expired"]) {
      expect(await refreshOutcome(slack, json(200, { ok: false, error }))).toBe("rejected");
    }
  });

  it("calls 5xx, 429, rate-limit codes and unreachable providers transient", async () => {
    expect(await refreshOutcome(custom, new Response("<html>down</html>", { status: 503 }))).toBe(
      "transient",
    );
    expect(await refreshOutcome(custom, json(502, { error: "bad_gateway" }))).toBe("transient");
    expect(await refreshOutcome(custom, json(429, { error: "slow_down" }))).toBe("transient");
    expect(await refreshOutcome(slack, json(200, { ok: false, error: "ratelimited" }))).toBe("transient");
    expect(await refreshOutcome(custom, new TypeError("fetch failed"))).toBe("transient");
  });

  it("calls a refused client or a malformed answer failed", async () => {
    expect(await refreshOutcome(custom, json(401, { error: "invalid_client" }))).toBe("failed");
    expect(await refreshOutcome(custom, json(400, { error: "unauthorized_client" }))).toBe("failed");
    expect(await refreshOutcome(custom, json(200, { token_type: "bearer" }))).toBe("failed");
    expect(await refreshOutcome(custom, new Response("nope", { status: 400 }))).toBe("failed");
  });
});

describe("refreshGrant", () => {
  it("sends the refresh grant with the client's credentials to the token URL", async () => {
    const { sent, fetch } = scripted(
      json(200, { access_token: "at-2", token_type: "Bearer", expires_in: 60 }),
    );
    const response = await refreshGrant(custom, client, "rt-1", { allowLoopbackHttp: false, fetch });
    expect(response.access_token).toBe("at-2");
    expect(sent[0]?.url).toBe("https://idp.example.com/token");
    expect(Object.fromEntries(new URLSearchParams(sent[0]?.body))).toEqual({
      grant_type: "refresh_token",
      refresh_token: "rt-1",
      client_id: "client-1",
      client_secret: "secret-1",
    });
  });

  it("reads Slack's refreshed token set at the top level and keeps the metadata it names", async () => {
    const { fetch } = scripted(
      json(200, {
        ok: true,
        access_token: "xoxe.xoxp-new",
        refresh_token: "xoxe-1-new",
        token_type: "user",
        expires_in: 43200,
        team: { id: "T123" },
      }),
    );
    const response = await refreshGrant(slack, client, "xoxe-1-old", { allowLoopbackHttp: false, fetch });
    expect(response.access_token).toBe("xoxe.xoxp-new");
    expect(response.refresh_token).toBe("xoxe-1-new");
    expect(response[METADATA_FIELD]).toEqual({ teamId: "T123" });
  });
});

describe("revokeToken", () => {
  it("treats an empty HTTP 200 as revoked (RFC 7009) and sends the token type hint", async () => {
    const { sent, fetch } = scripted(new Response(null, { status: 200 }));
    await revokeToken(
      custom,
      client,
      { value: "rt-1", hint: "refresh_token" },
      { allowLoopbackHttp: false, fetch },
    );
    expect(sent[0]?.url).toBe("https://idp.example.com/revoke");
    expect(new URLSearchParams(sent[0]?.body).get("token_type_hint")).toBe("refresh_token");
  });

  it("rejects a Slack-style HTTP 200 error body", async () => {
    const { fetch } = scripted(json(200, { ok: false, error: "invalid_auth" }));
    const revoking = revokeToken(
      slack,
      client,
      { value: "xoxp", hint: "access_token" },
      { allowLoopbackHttp: false, fetch },
    );
    await expect(revoking).rejects.toThrow();
  });

  it("applies the token endpoint's quirks: Notion gets HTTP Basic, JSON and its version header", async () => {
    const { sent, fetch } = scripted(json(200, {}));
    await revokeToken(
      notion,
      client,
      { value: "secret_x", hint: "access_token" },
      { allowLoopbackHttp: false, fetch },
    );
    expect(sent[0]?.headers.get("authorization")).toBe(`Basic ${btoa("client-1:secret-1")}`);
    expect(sent[0]?.headers.get("notion-version")).toBe("2026-03-11");
    expect(JSON.parse(sent[0]?.body ?? "")).toMatchObject({ token: "secret_x" });
  });
});

describe("revokeToken in the provider's own style", () => {
  const send = async (
    key: string,
    token: { value: string; hint: "refresh_token" | "access_token" },
    answer: Response,
  ) => {
    const provider = resolveProvider(
      connector(key, key === "servicenow" ? { params: { instance: "acme" } } : {}),
      catalog,
    );
    const { sent, fetch } = scripted(answer);
    await revokeToken(provider, client, token, { allowLoopbackHttp: false, fetch });
    return sent[0] as Sent;
  };

  it("sends Dropbox the access token as Bearer with no body", async () => {
    const sent = await send("dropbox", { value: "sl.at", hint: "access_token" }, json(200, null));
    expect(sent.url).toBe("https://api.dropboxapi.com/2/auth/token/revoke");
    expect(sent.headers.get("authorization")).toBe("Bearer sl.at");
    expect(sent.body).toBe("");
  });

  it("sends Linear the token in a field named after its kind, never token=", async () => {
    const sent = await send(
      "linear",
      { value: "lin_rt", hint: "refresh_token" },
      new Response(null, { status: 200 }),
    );
    expect(sent.url).toBe("https://api.linear.app/oauth/revoke");
    expect(Object.fromEntries(new URLSearchParams(sent.body))).toEqual({ refresh_token: "lin_rt" });
    expect(sent.headers.get("content-type")).toBe("application/x-www-form-urlencoded");
  });

  it("sends ServiceNow ?token= with no client authentication", async () => {
    const sent = await send(
      "servicenow",
      { value: "sn.rt", hint: "refresh_token" },
      new Response(null, { status: 200 }),
    );
    expect(sent.url).toBe("https://acme.service-now.com/oauth_revoke_token.do?token=sn.rt");
    expect(sent.headers.get("authorization")).toBeNull();
  });

  it("reads Slack's HTTP 200 {ok: false} on a Bearer revocation as a refusal", async () => {
    const revoking = send(
      "slack",
      { value: "xoxe.p", hint: "access_token" },
      json(200, { ok: false, error: "invalid_auth" }),
    );
    await expect(revoking).rejects.toThrow();
    const sent = await send(
      "slack",
      { value: "xoxe.p", hint: "access_token" },
      json(200, { ok: true, revoked: true }),
    );
    expect(sent.headers.get("authorization")).toBe("Bearer xoxe.p");
  });
});

describe("callWithRetries", () => {
  const attemptWith =
    (provider = custom) =>
    (fetchImpl: typeof fetch) =>
      refreshGrant(provider, client, "rt-1", { allowLoopbackHttp: false, fetch: fetchImpl });
  const ok = () => json(200, { access_token: "at-2", token_type: "bearer" });

  it("retries transient failures with doubling pauses up to the cap, then succeeds", async () => {
    const sleeps: number[] = [];
    const { fetch } = scripted(json(503, {}), json(503, {}), json(429, {}), ok());
    const outcome = await callWithRetries(attemptWith(), {
      policy,
      fetch,
      sleep: async (ms) => void sleeps.push(ms),
    });
    expect(outcome).toMatchObject({ ok: true, attempts: 4 });
    expect(sleeps).toEqual([100, 200, 350]);
  });

  it("stops after maxAttempts and reports the last failure as transient", async () => {
    const { sent, fetch } = scripted(...Array.from({ length: 4 }, () => json(503, {})));
    const outcome = await callWithRetries(attemptWith(), { policy, fetch, sleep: async () => {} });
    expect(outcome).toMatchObject({ ok: false, failure: "transient", attempts: 4 });
    expect(sent).toHaveLength(4);
  });

  it("never retries a rejected grant or a failed call", async () => {
    for (const answer of [json(400, { error: "invalid_grant" }), json(401, { error: "invalid_client" })]) {
      const { sent, fetch } = scripted(answer);
      const outcome = await callWithRetries(attemptWith(), { policy, fetch, sleep: async () => {} });
      expect(outcome.ok).toBe(false);
      expect(sent).toHaveLength(1);
    }
  });

  it("waits as long as Retry-After asks, within the cap", async () => {
    const sleeps: number[] = [];
    const { fetch } = scripted(
      json(429, {}, { "retry-after": "0" }),
      json(429, {}, { "retry-after": "3" }),
      ok(),
    );
    const capped = { ...policy, maxDelayMs: 5_000 };
    await callWithRetries(attemptWith(), {
      policy: capped,
      fetch,
      sleep: async (ms) => void sleeps.push(ms),
    });
    expect(sleeps).toEqual([100, 3_000]);
  });

  it("does not retry when mayWait says there is no time left", async () => {
    const { sent, fetch } = scripted(json(503, {}), ok());
    const outcome = await callWithRetries(attemptWith(), {
      policy,
      fetch,
      sleep: async () => {},
      mayWait: () => false,
    });
    expect(outcome).toMatchObject({ ok: false, failure: "transient", attempts: 1 });
    expect(sent).toHaveLength(1);
  });

  it("abandons an attempt that gets no answer within attemptTimeoutMs as transient", async () => {
    const hanging = ((_input: string, init?: RequestInit) =>
      new Promise<Response>((_resolve, reject) => {
        init?.signal?.addEventListener("abort", () => reject(init.signal?.reason));
      })) as typeof fetch;
    const quick = { ...policy, maxAttempts: 1, attemptTimeoutMs: 20 };
    const outcome = await callWithRetries(attemptWith(), {
      policy: quick,
      fetch: hanging,
      sleep: async () => {},
    });
    expect(outcome).toMatchObject({ ok: false, failure: "transient" });
  });
});
