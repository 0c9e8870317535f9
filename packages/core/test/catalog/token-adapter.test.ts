/**
 * Token-endpoint quirks, applied in token-adapter.ts only: request shape (Notion JSON + Basic +
 * Notion-Version, GitHub Accept), answer shape (form-encoded, nested token sets, HTTP 200 errors,
 * scope lists, per-tenant id_tokens) and the metadata kept. No network: fetch is a stub.
 */
import { generateKeyPair, SignJWT } from "jose";
import * as oauth from "oauth4webapi";
import { describe, expect, it } from "vitest";
import { type CatalogOptions, type ProviderEntry, resolveProvider } from "../../src/catalog.ts";
import { exchangeCode, validateCallback } from "../../src/oauth.ts";
import { providers } from "../../src/providers.ts";
import {
  IDENTITY_FIELD,
  METADATA_FIELD,
  normalizeTokenBody,
  tokenEndpointFetch,
} from "../../src/token-adapter.ts";
import type { ConnectorConfig } from "../../src/types.ts";

function entry(key: string): ProviderEntry {
  const found = providers[key];
  if (!found) throw new Error(`no catalog entry ${key}`);
  return found;
}

const SLACK_SUCCESS = {
  ok: true,
  app_id: "A0KRD7HC3",
  authed_user: {
    id: "U1234",
    scope: "channels:history,channels:read",
    access_token: "xoxp-user-token",
    token_type: "user",
    refresh_token: "xoxe-1-refresh",
    expires_in: 43200,
  },
  scope: "commands",
  token_type: "bot",
  access_token: "xoxb-bot-token",
  team: { id: "T9TK3CUKW", name: "Acme" },
  enterprise: null,
  is_enterprise_install: false,
};

describe("normalizeTokenBody", () => {
  it("takes Slack's user token set from authed_user and keeps team metadata", () => {
    const { status, body } = normalizeTokenBody(entry("slack"), 200, SLACK_SUCCESS);
    expect(status).toBe(200);
    expect(body).toEqual({
      id: "U1234",
      scope: "channels:history,channels:read",
      access_token: "xoxp-user-token",
      token_type: "bearer",
      refresh_token: "xoxe-1-refresh",
      expires_in: 43200,
      [METADATA_FIELD]: { teamId: "T9TK3CUKW", teamName: "Acme", userId: "U1234", appId: "A0KRD7HC3" },
      // Slack's identity is read from the token response (catalog identity: authed_user.id).
      [IDENTITY_FIELD]: { authed_user: { id: "U1234" } },
    });
  });

  it("turns Slack's HTTP 200 ok:false into an RFC 6749 error", () => {
    expect(normalizeTokenBody(entry("slack"), 200, { ok: false, error: "invalid_code" })).toEqual({
      status: 400,
      body: { error: "invalid_code" },
    });
    expect(normalizeTokenBody(entry("slack"), 200, { ok: false })).toEqual({
      status: 400,
      body: { error: "provider_error" },
    });
  });

  it("turns GitHub's HTTP 200 error body into an RFC 6749 error", () => {
    const body = {
      error: "bad_verification_code",
      error_description: "The code passed is incorrect or expired.",
    };
    expect(normalizeTokenBody(entry("github"), 200, body)).toEqual({
      status: 400,
      body: { error: "bad_verification_code" },
    });
  });

  it("keeps an error status and drops any provider text but the error code", () => {
    const microsoft = { error: "invalid_grant", error_description: "AADSTS70008: expired", trace_id: "t" };
    expect(normalizeTokenBody(entry("outlook"), 400, microsoft)).toEqual({
      status: 400,
      body: { error: "invalid_grant" },
    });
    expect(
      normalizeTokenBody(entry("snowflake"), 401, { message: "Incorrect username", success: false }),
    ).toEqual({
      status: 401,
      body: { error: "provider_error" },
    });
  });

  it("keeps Salesforce's instance URL and identity URL", () => {
    const body = {
      access_token: "00Dxx!AQ",
      refresh_token: "5Aep861",
      signature: "sig",
      scope: "refresh_token api",
      instance_url: "https://acme.my.salesforce.com",
      id: "https://login.salesforce.com/id/00Dxx0000001gPL/005xx000001Sv6A",
      token_type: "Bearer",
      issued_at: "1278448832702",
    };
    const normalized = normalizeTokenBody(entry("salesforce"), 200, body).body;
    expect(normalized.token_type).toBe("bearer");
    expect(normalized[METADATA_FIELD]).toEqual({
      instanceUrl: "https://acme.my.salesforce.com",
      identityUrl: "https://login.salesforce.com/id/00Dxx0000001gPL/005xx000001Sv6A",
    });
  });

  it("keeps Notion's workspace and Dropbox's account, as strings", () => {
    const notion = {
      access_token: "ntn_1",
      token_type: "bearer",
      bot_id: "b-1",
      workspace_id: "w-1",
      workspace_name: "Acme",
      workspace_icon: null,
      owner: { type: "user", user: { object: "user", id: "u-1" } },
    };
    expect(normalizeTokenBody(entry("notion"), 200, notion).body[METADATA_FIELD]).toEqual({
      workspaceId: "w-1",
      workspaceName: "Acme",
      botId: "b-1",
      ownerUserId: "u-1",
    });
    const dropbox = { access_token: "sl.1", token_type: "bearer", account_id: "dbid:AAH4", uid: 12345 };
    expect(normalizeTokenBody(entry("dropbox"), 200, dropbox).body[METADATA_FIELD]).toEqual({
      accountId: "dbid:AAH4",
      uid: "12345",
    });
  });

  it("drops a Google id_token naming the scheme-less accounts.google.com, keeps one naming the issuer", () => {
    const jwt = (iss: string) =>
      `h.${btoa(JSON.stringify({ iss, sub: "1" }))
        .replaceAll("=", "")
        .replaceAll("+", "-")
        .replaceAll("/", "_")}.s`;
    const body = (iss: string) => ({ access_token: "a", token_type: "Bearer", id_token: jwt(iss) });
    expect(normalizeTokenBody(entry("gmail"), 200, body("accounts.google.com")).body).not.toHaveProperty(
      "id_token",
    );
    const kept = normalizeTokenBody(entry("gmail"), 200, body("https://accounts.google.com")).body;
    expect(kept).toHaveProperty("id_token", jwt("https://accounts.google.com"));
  });

  it("drops an id_token when the entry has no issuer to validate it against", () => {
    const body = { access_token: "a", token_type: "Bearer", id_token: "h.p.s" };
    expect(normalizeTokenBody(entry("outlook"), 200, body).body).not.toHaveProperty("id_token");
    expect(normalizeTokenBody(entry("gmail"), 200, body).body).toHaveProperty("id_token", "h.p.s");
  });

  it("joins a scope list into one space-separated string", () => {
    const body = { access_token: "a", token_type: "Bearer", scope: ["read", "write"] };
    expect(normalizeTokenBody(entry("linear"), 200, body).body.scope).toBe("read write");
  });

  it("calls a token without a type, or of type user or bot, a bearer token", () => {
    for (const token_type of [undefined, "user", "bot", "Bearer"]) {
      expect(normalizeTokenBody(entry("box"), 200, { access_token: "a", token_type }).body.token_type).toBe(
        "bearer",
      );
    }
  });
});

interface Seen {
  url: string;
  init: RequestInit & { headers: Record<string, string> };
}

/** A fetch stub answering with `answer` and recording what it was asked. */
function stub(answer: () => Response) {
  const seen: Seen[] = [];
  const fetchImpl = (async (url: string, init: Seen["init"]) => {
    seen.push({ url, init });
    return answer();
  }) as unknown as typeof fetch;
  return { seen, fetchImpl };
}

const FORM_REQUEST = {
  method: "POST",
  headers: {
    accept: "application/json",
    "content-type": "application/x-www-form-urlencoded;charset=UTF-8",
    authorization: "Basic Y2xpZW50OnNlY3JldA==",
  },
  body: new URLSearchParams({
    grant_type: "authorization_code",
    code: "c-1",
    redirect_uri: "https://api/cb",
  }),
};

describe("tokenEndpointFetch", () => {
  it("sends Notion a JSON body with Notion-Version, keeping Basic authentication", async () => {
    const { seen, fetchImpl } = stub(() => Response.json({ access_token: "ntn_1", token_type: "bearer" }));
    await tokenEndpointFetch(entry("notion"), fetchImpl)(
      "https://api.notion.com/v1/oauth/token",
      FORM_REQUEST,
    );
    const init = seen[0]?.init;
    expect(init?.headers).toEqual({
      accept: "application/json",
      "content-type": "application/json",
      authorization: "Basic Y2xpZW50OnNlY3JldA==",
      "notion-version": "2026-03-11",
    });
    expect(JSON.parse(init?.body as string)).toEqual({
      grant_type: "authorization_code",
      code: "c-1",
      redirect_uri: "https://api/cb",
    });
    expect(init?.redirect).toBe("manual");
  });

  it("leaves a form request as it is and sets an entry's header once", async () => {
    const { seen, fetchImpl } = stub(() => Response.json({ access_token: "gho_1", token_type: "bearer" }));
    await tokenEndpointFetch(entry("github"), fetchImpl)(
      "https://github.com/login/oauth/access_token",
      FORM_REQUEST,
    );
    const init = seen[0]?.init;
    expect(init?.headers).toEqual(FORM_REQUEST.headers);
    expect(init?.body).toBe(FORM_REQUEST.body);
  });

  it("reads GitHub's form-encoded answer as a standard JSON token response", async () => {
    const form =
      "access_token=gho_16C7e42F292c6912E7710c838347Ae178B4a&scope=repo%2Cread%3Aorg&token_type=bearer";
    const { fetchImpl } = stub(
      () =>
        new Response(form, {
          headers: { "content-type": "application/x-www-form-urlencoded; charset=utf-8" },
        }),
    );
    const response = await tokenEndpointFetch(entry("github"), fetchImpl)(
      "https://github.com/x",
      FORM_REQUEST,
    );
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/^application\/json/);
    expect(await response.json()).toEqual({
      access_token: "gho_16C7e42F292c6912E7710c838347Ae178B4a",
      scope: "repo,read:org",
      token_type: "bearer",
      [METADATA_FIELD]: {},
    });
  });

  it("turns GitHub's form-encoded HTTP 200 error into a 400 JSON error", async () => {
    const form = "error=bad_verification_code&error_description=The+code+passed+is+incorrect+or+expired.";
    const { fetchImpl } = stub(() => new Response(form, { status: 200 }));
    const response = await tokenEndpointFetch(entry("github"), fetchImpl)(
      "https://github.com/x",
      FORM_REQUEST,
    );
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({ error: "bad_verification_code" });
  });

  it("sends Basic credentials as the providers document them, not form-encoded", async () => {
    const clientId = "1c2d3e4f-5a6b-7c8d.9e_0";
    const secret = "se+cr/et=%~ü";
    const headers = new Headers();
    await oauth.ClientSecretBasic(secret)(
      {} as never,
      { client_id: clientId },
      new URLSearchParams(),
      headers,
    );
    expect(headers.get("authorization")).not.toBe(
      `Basic ${Buffer.from(`${clientId}:${secret}`).toString("base64")}`,
    );
    const { seen, fetchImpl } = stub(() => Response.json({ access_token: "ntn_1", token_type: "bearer" }));
    const init = {
      ...FORM_REQUEST,
      headers: { ...FORM_REQUEST.headers, authorization: headers.get("authorization") ?? "" },
    };
    await tokenEndpointFetch(entry("notion"), fetchImpl)("https://api.notion.com/v1/oauth/token", init);
    expect(seen[0]?.init.headers.authorization).toBe(
      `Basic ${Buffer.from(`${clientId}:${secret}`).toString("base64")}`,
    );
  });

  it("answers 502 for an unreadable 200 and keeps the status of an unreadable error", async () => {
    const html = stub(() => new Response("<html>maintenance</html>", { status: 200 }));
    expect(
      (await tokenEndpointFetch(entry("zendesk"), html.fetchImpl)("https://x", FORM_REQUEST)).status,
    ).toBe(502);
    const outage = stub(() => new Response("<html>down</html>", { status: 503 }));
    const response = await tokenEndpointFetch(entry("zendesk"), outage.fetchImpl)("https://x", FORM_REQUEST);
    expect(response.status).toBe(503);
    expect(await response.text()).toBe("");
  });
});

describe("exchangeCode through the adapter", () => {
  const options: CatalogOptions = { catalog: providers, allowLoopbackHttp: false };

  async function exchange(key: string, answer: () => Response, params?: Record<string, string>) {
    const config: ConnectorConfig = {
      connectorId: "c1",
      orgId: "acme",
      provider: key,
      scope: "team",
      createdBy: "alice",
      clientId: "client-1",
      params,
    };
    const provider = resolveProvider(config, options);
    const callback = validateCallback(
      provider,
      "client-1",
      new URLSearchParams({ code: "c-1", state: "s" }),
      "s",
    );
    const { seen, fetchImpl } = stub(answer);
    const run = exchangeCode(
      provider,
      { clientId: "client-1", clientSecret: "secret" },
      callback,
      "https://api/cb",
      "v".repeat(43),
      {
        allowLoopbackHttp: false,
        fetch: fetchImpl,
      },
    );
    return { run, seen };
  }

  it("gives oauth4webapi Slack's user token set", async () => {
    const { run } = await exchange("slack", () => Response.json(SLACK_SUCCESS));
    const response = await run;
    expect(response.access_token).toBe("xoxp-user-token");
    expect(response.refresh_token).toBe("xoxe-1-refresh");
    expect(response[METADATA_FIELD]).toMatchObject({ teamId: "T9TK3CUKW" });
  });

  it("rejects Slack's ok:false answer as a response body error", async () => {
    const { run } = await exchange("slack", () => Response.json({ ok: false, error: "invalid_code" }));
    await expect(run).rejects.toMatchObject({
      name: "ResponseBodyError",
      error: "invalid_code",
      status: 400,
    });
  });

  it("rejects a token set without an access token", async () => {
    const { run } = await exchange("slack", () =>
      Response.json({ ...SLACK_SUCCESS, authed_user: { id: "U1" } }),
    );
    await expect(run).rejects.toThrow(/access_token/);
  });

  it("exchanges with Basic authentication where the entry says so", async () => {
    const { run, seen } = await exchange("zoom", () =>
      Response.json({
        access_token: "z",
        token_type: "bearer",
        expires_in: 3599,
        api_url: "https://api.zoom.us",
      }),
    );
    expect((await run)[METADATA_FIELD]).toEqual({ apiUrl: "https://api.zoom.us" });
    const init = seen[0]?.init;
    expect(init?.headers.authorization).toBe(`Basic ${btoa("client-1:secret")}`);
    expect(new URLSearchParams(init?.body as URLSearchParams).has("client_secret")).toBe(false);
  });

  it("accepts a Microsoft answer whose id_token names the user's tenant", async () => {
    const { run } = await exchange("teams", () =>
      Response.json({
        token_type: "Bearer",
        access_token: "eyJ0",
        expires_in: 3599,
        id_token: "eyJ.eyJ.sig",
      }),
    );
    const response = await run;
    expect(response.access_token).toBe("eyJ0");
    expect(response.id_token).toBeUndefined();
  });

  it("validates Google's id_token against Google's issuer", async () => {
    const { privateKey } = await generateKeyPair("RS256");
    const idToken = (iss: string) =>
      new SignJWT({ email: "alice@example.com" })
        .setProtectedHeader({ alg: "RS256" })
        .setIssuer(iss)
        .setAudience("client-1")
        .setSubject("1234")
        .setIssuedAt()
        .setExpirationTime("1h")
        .sign(privateKey);
    const good = await idToken("https://accounts.google.com");
    const ok = await exchange("gmail", () =>
      Response.json({ access_token: "ya29", token_type: "Bearer", id_token: good }),
    );
    expect((await ok.run).id_token).toBe(good);
    const forged = await idToken("https://evil.example.com");
    const bad = await exchange("gmail", () =>
      Response.json({ access_token: "ya29", token_type: "Bearer", id_token: forged }),
    );
    await expect(bad.run).rejects.toThrow(/iss/);
  });

  it("sends the code verifier to the templated token URL", async () => {
    const withPkce = await exchange(
      "zendesk",
      () => Response.json({ access_token: "z", token_type: "bearer" }),
      {
        subdomain: "acme",
      },
    );
    await withPkce.run;
    expect(withPkce.seen[0]?.url).toBe("https://acme.zendesk.com/oauth/tokens");
    expect(new URLSearchParams(withPkce.seen[0]?.init.body as URLSearchParams).get("code_verifier")).toBe(
      "v".repeat(43),
    );
  });
});
