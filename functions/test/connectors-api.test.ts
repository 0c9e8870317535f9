/**
 * The connectors API (SPEC 2.4, issue 15) over HTTP, with the real handlers in front of dynalite,
 * the local KMS and the demo provider (oidc-provider): create, read, list, update with and without
 * If-Match, delete; team and personal rules; org isolation; a 400 naming the field for each kind of
 * bad definition with nothing stored; re-pointing a connected connector; lost replies.
 */
import { GetItemCommand } from "@aws-sdk/client-dynamodb";
import { openClientSecret } from "@connector-oauth/core";
import {
  authorize,
  CLIENT,
  callCallback,
  consent,
  demoConnector,
  type Harness,
  startHarness,
} from "@connector-oauth/test-kit";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type FaultEnv, startFaultEnv } from "./support/fault-matrix.ts";

let h: Harness;
let admin: string;
let member: string;
let otherMember: string;
let globexAdmin: string;

beforeAll(async () => {
  h = await startHarness();
  admin = await h.token({ sub: "alice", orgId: "acme", role: "admin", email: "alice@example.com" });
  member = await h.token({ sub: "carol", orgId: "acme", email: "carol@example.com" });
  otherMember = await h.token({ sub: "dave", orgId: "acme" });
  globexAdmin = await h.token({ sub: "gina", orgId: "globex", role: "admin" });
});
afterAll(() => h?.close());

interface Answer {
  status: number;
  headers: Headers;
  body: Record<string, unknown>;
}

async function send(
  base: string,
  method: string,
  path: string,
  token: string | undefined,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<Answer> {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body === undefined ? {} : { "content-type": "application/json" }),
      ...headers,
    },
    body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
  });
  return { status: response.status, headers: response.headers, body: await response.json() };
}

const api = (
  method: string,
  path: string,
  token?: string,
  body?: unknown,
  headers?: Record<string, string>,
) => send(h.api.url, method, path, token, body, headers);

/** A definition body as the platform sends it: no org (the caller's) and no creator. */
function body(fields: Record<string, unknown> = {}) {
  // The demo provider's revocation (RFC 7009) and UserInfo (/me) endpoints, so connects record the
  // account and deletes can revoke.
  const endpoints = {
    authorizationUrl: h.provider.authorizationUrl,
    tokenUrl: h.provider.tokenUrl,
    issuer: h.provider.issuer,
    revocationUrl: h.provider.revocationUrl,
    userinfoUrl: `${h.provider.issuer}/me`,
  };
  const { createdBy: _c, ...definition } = demoConnector(h.provider, { endpoints, ...fields });
  return definition;
}

const connectorOf = (answer: Answer) => answer.body.connector as Record<string, unknown>;
const codeOf = (answer: Answer) => (answer.body.error as { code: string } | undefined)?.code;
const messageOf = (answer: Answer) => (answer.body.error as { message: string } | undefined)?.message ?? "";

async function connect(connectorId: string, token = admin) {
  const started = await authorize(h, connectorId, token);
  expect(started.status).toBe(200);
  const answer = await callCallback(await consent(h, started.body.authorizationUrl as string));
  expect(answer.status).toBe(302);
  expect((await h.connectors.get("acme", connectorId))?.status).toBe("authenticated");
}

describe("PUT /connectors/{connectorId}", () => {
  it("creates a team connector for an admin (201), seals the client secret and never returns it", async () => {
    const created = await api("PUT", "/connectors/drive-team", admin, body({ scope: "team", name: "Drive" }));
    expect(created.status).toBe(201);
    expect(created.headers.get("etag")).toBe('"1"');
    const connector = connectorOf(created);
    expect(connector).toMatchObject({
      connectorId: "drive-team",
      orgId: "acme",
      scope: "team",
      createdBy: "alice",
      name: "Drive",
      version: 1,
      status: "not_connected",
      clientId: CLIENT.clientId,
      hasClientSecret: true,
    });
    expect(created.body.tokensRemoved).toBe(false);
    expect(JSON.stringify(created.body)).not.toContain(CLIENT.clientSecret);
    const stored = await h.connectors.get("acme", "drive-team");
    expect(JSON.stringify(stored)).not.toContain(CLIENT.clientSecret);
    expect(stored && (await openClientSecret(h.dataKeys, stored))).toBe(CLIENT.clientSecret);
  });

  it("lets any member create a personal connector, recorded as its creator; only the creator updates it", async () => {
    const created = await api("PUT", "/connectors/mine", member, body({ scope: "personal" }));
    expect(created.status).toBe(201);
    expect(connectorOf(created).createdBy).toBe("carol");

    const byOther = await api("PUT", "/connectors/mine", otherMember, body({ scope: "personal", name: "x" }));
    expect(byOther.status).toBe(403);
    expect(codeOf(byOther)).toBe("forbidden");
    const byAdmin = await api("PUT", "/connectors/mine", admin, body({ scope: "personal", name: "x" }));
    expect(byAdmin.status).toBe(403);
    expect((await h.connectors.get("acme", "mine"))?.name).toBeUndefined();

    const updated = await api("PUT", "/connectors/mine", member, body({ scope: "personal", name: "Mine" }));
    expect(updated.status).toBe(200);
    expect(connectorOf(updated)).toMatchObject({ name: "Mine", version: 2, createdBy: "carol" });
  });

  it("refuses a member on a team connector (403) and stores nothing", async () => {
    const refused = await api("PUT", "/connectors/member-team", member, body({ scope: "team" }));
    expect(refused.status).toBe(403);
    expect(codeOf(refused)).toBe("forbidden");
    expect(await h.connectors.get("acme", "member-team")).toBeUndefined();
    await api("PUT", "/connectors/admins-team", admin, body({ scope: "team" }));
    const change = await api("PUT", "/connectors/admins-team", member, body({ scope: "team", name: "y" }));
    expect(change.status).toBe(403);
    // Turning one's own personal connector into a team connector is an admin's change too.
    await api("PUT", "/connectors/to-team", member, body({ scope: "personal" }));
    expect((await api("PUT", "/connectors/to-team", member, body({ scope: "team" }))).status).toBe(403);
  });

  it("keeps orgs apart: the same id in another org is another connector", async () => {
    await api("PUT", "/connectors/shared-id", admin, body({ name: "acme's" }));
    const globex = await api("PUT", "/connectors/shared-id", globexAdmin, body({ name: "globex's" }));
    expect(globex.status).toBe(201);
    expect(connectorOf(globex)).toMatchObject({ orgId: "globex", createdBy: "gina", version: 1 });
    expect((await h.connectors.get("acme", "shared-id"))?.name).toBe("acme's");
  });

  // Each kind of bad field: 400 invalid_request, the field named, nothing stored.
  const BAD: [string, string, () => unknown][] = [
    ["an unknown field", "colour", () => body({ colour: "blue" })],
    ["a bad scope", "scope", () => body({ scope: "everyone" })],
    ["no provider", "provider", () => body({ provider: undefined })],
    [
      "an unknown provider",
      "no-such-provider",
      () => body({ provider: "no-such-provider", endpoints: undefined }),
    ],
    ["no client id", "clientId", () => body({ clientId: "" })],
    ["scopes that are not a list", "scopes", () => body({ scopes: "openid email" })],
    [
      "a non-https endpoint",
      "tokenUrl",
      () =>
        body({
          endpoints: { authorizationUrl: "https://idp.example.com/a", tokenUrl: "http://idp.example.com/t" },
        }),
    ],
    [
      "an unknown endpoint field",
      "jwks",
      () =>
        body({
          endpoints: {
            authorizationUrl: "https://i.example.com/a",
            tokenUrl: "https://i.example.com/t",
            jwks: "x",
          },
        }),
    ],
    ["endpoints on a catalog provider", "endpoints", () => body({ provider: "github" })],
    [
      "a provider parameter off its pattern",
      "subdomain",
      () => body({ provider: "zendesk", endpoints: undefined, params: { subdomain: "a.evil.example" } }),
    ],
    ["a missing provider parameter", "subdomain", () => body({ provider: "zendesk", endpoints: undefined })],
    ["a non-boolean isEnabled", "isEnabled", () => body({ isEnabled: "yes" })],
    ["another org", "orgId", () => ({ ...body(), orgId: "globex" })],
    ["another creator", "createdBy", () => ({ ...body(), createdBy: "mallory" })],
    ["another id than the path's", "connectorId", () => ({ ...body(), connectorId: "elsewhere" })],
    ["a body that is not an object", "object", () => [body()]],
    ["a body that is not JSON", "JSON", () => "{not json"],
  ];
  it.each(BAD)("answers 400 naming the field for %s, and stores nothing", async (_kind, field, sent) => {
    const answer = await api("PUT", "/connectors/bad-definition", admin, sent());
    expect(answer.status).toBe(400);
    expect(codeOf(answer)).toBe("invalid_request");
    expect(messageOf(answer)).toContain(field);
    expect(await h.connectors.get("acme", "bad-definition")).toBeUndefined();
  });

  it.each([
    ["oauth", "reserved"],
    ["getTokenFromCode", "reserved"],
  ])("refuses the reserved id %s", async (id, word) => {
    const answer = await api("PUT", `/connectors/${id}`, admin, body());
    expect(answer.status).toBe(400);
    expect(messageOf(answer)).toContain(word);
    expect(await h.connectors.get("acme", id)).toBeUndefined();
  });

  it("refuses an id that cannot be a key (400) and a missing or forged bearer (401)", async () => {
    expect((await api("PUT", `/connectors/${"x".repeat(129)}`, admin, body())).status).toBe(400);
    expect((await api("PUT", "/connectors/no-bearer", undefined, body())).status).toBe(401);
    expect((await api("PUT", "/connectors/no-bearer", `${admin.slice(0, -4)}AAAA`, body())).status).toBe(401);
    expect(await h.connectors.get("acme", "no-bearer")).toBeUndefined();
  });
});

describe("optimistic concurrency (If-Match)", () => {
  it("applies a change whose If-Match is current, refuses a stale one with 409 and keeps the newer one", async () => {
    const v1 = await api("PUT", "/connectors/versioned", admin, body({ name: "one" }));
    const v2 = await api("PUT", "/connectors/versioned", admin, body({ name: "two" }), { "if-match": '"1"' });
    expect(v2.status).toBe(200);
    expect(connectorOf(v2).version).toBe(2);
    expect(v2.headers.get("etag")).toBe('"2"');
    const stale = await api("PUT", "/connectors/versioned", admin, body({ name: "stale" }), {
      "if-match": v1.headers.get("etag") ?? "",
    });
    expect(stale.status).toBe(409);
    expect(codeOf(stale)).toBe("conflict");
    expect((await h.connectors.get("acme", "versioned"))?.name).toBe("two");
    // Without If-Match the change applies to whatever version is stored.
    const blind = await api("PUT", "/connectors/versioned", admin, body({ name: "three" }));
    expect(connectorOf(blind)).toMatchObject({ name: "three", version: 3 });
  });

  it("answers 409 to If-Match on a connector that does not exist, and 400 to a malformed If-Match", async () => {
    const missing = await api("PUT", "/connectors/not-yet", admin, body(), { "if-match": "*" });
    expect(missing.status).toBe(409);
    expect(await h.connectors.get("acme", "not-yet")).toBeUndefined();
    const malformed = await api("PUT", "/connectors/not-yet", admin, body(), { "if-match": "W/abc" });
    expect(malformed.status).toBe(400);
    expect(messageOf(malformed)).toContain("If-Match");
  });

  it("lets exactly one of two concurrent changes with the same If-Match through", async () => {
    await api("PUT", "/connectors/raced", admin, body({ name: "start" }));
    const answers = await Promise.all(
      ["left", "right"].map((name) =>
        api("PUT", "/connectors/raced", admin, body({ name }), { "if-match": "1" }),
      ),
    );
    expect(answers.map((a) => a.status).sort()).toEqual([200, 409]);
    const winner = connectorOf(answers.find((a) => a.status === 200) as Answer);
    expect((await h.connectors.get("acme", "raced"))?.name).toBe(winner.name);
  });
});

describe("changing a connected connector", () => {
  it("keeps tokens and status when the change does not re-point where secrets go", async () => {
    await api("PUT", "/connectors/keeps", admin, body());
    await connect("keeps");
    const renamed = await api(
      "PUT",
      "/connectors/keeps",
      admin,
      body({ name: "Renamed", clientSecret: undefined }),
    );
    expect(renamed.status).toBe(200);
    expect(renamed.body.tokensRemoved).toBe(false);
    expect(connectorOf(renamed)).toMatchObject({
      status: "authenticated",
      isAuthenticated: true,
      name: "Renamed",
    });
    expect((connectorOf(renamed).connectedAccount as { email?: string }).email).toBe("alice@example.com");
    expect(connectorOf(renamed).tokenExpiresAt).toEqual(expect.any(String));
    const stored = await h.connectors.get("acme", "keeps");
    expect(stored && (await openClientSecret(h.dataKeys, stored))).toBe(CLIENT.clientSecret);
  });

  it("removes the tokens in the same write and says so (not_connected) when the client id changes", async () => {
    await api("PUT", "/connectors/repointed", admin, body());
    await connect("repointed");
    const without = await api(
      "PUT",
      "/connectors/repointed",
      admin,
      body({ clientId: "other", clientSecret: undefined }),
    );
    expect(without.status).toBe(400);
    expect(messageOf(without)).toContain("client secret");
    expect((await h.connectors.get("acme", "repointed"))?.status).toBe("authenticated");

    const changed = await api("PUT", "/connectors/repointed", admin, body({ clientId: "other" }));
    expect(changed.status).toBe(200);
    expect(changed.body.tokensRemoved).toBe(true);
    expect(connectorOf(changed)).toMatchObject({ status: "not_connected", isAuthenticated: false });
    expect(connectorOf(changed).connectedAccount).toBeUndefined();
    const stored = await h.connectors.get("acme", "repointed");
    expect(stored?.tokens).toBeUndefined();
    expect(stored?.status).toBe("not_connected");
    expect(stored?.clientId).toBe("other");
    // The sealed refresh token lives in an attribute of its own: gone too, in the same write.
    const raw = await h.services.dynamo.send(
      new GetItemCommand({
        TableName: h.services.tableName,
        Key: { pk: { S: "ORG#acme" }, sk: { S: "CONNECTOR#repointed" } },
        ConsistentRead: true,
      }),
    );
    expect(Object.keys(raw.Item ?? {})).not.toContain("refreshToken");
    expect(Object.keys(raw.Item ?? {})).not.toContain("tokens");
  });
});

describe("GET /connectors/{connectorId}", () => {
  it("shows team connectors to every member and personal ones to their creator only (404 otherwise)", async () => {
    await api("PUT", "/connectors/seen-team", admin, body({ scope: "team" }));
    await api("PUT", "/connectors/seen-personal", member, body({ scope: "personal" }));
    const teamByMember = await api("GET", "/connectors/seen-team", otherMember);
    expect(teamByMember.status).toBe(200);
    expect(teamByMember.headers.get("etag")).toBe('"1"');
    expect(JSON.stringify(teamByMember.body)).not.toContain(CLIENT.clientSecret);
    expect((await api("GET", "/connectors/seen-personal", member)).status).toBe(200);
    const byOther = await api("GET", "/connectors/seen-personal", otherMember);
    const missing = await api("GET", "/connectors/no-such-connector", otherMember);
    expect(byOther.status).toBe(404);
    expect(byOther.body).toEqual(missing.body);
    expect((await api("GET", "/connectors/seen-personal", admin)).status).toBe(404);
  });

  it("answers 404 for another org's connector, exactly as for a missing one", async () => {
    await api("PUT", "/connectors/acme-only", admin, body());
    const other = await api("GET", "/connectors/acme-only", globexAdmin);
    expect(other.status).toBe(404);
    expect(other.body).toEqual((await api("GET", "/connectors/nothing-here", globexAdmin)).body);
  });
});

describe("GET /connectors", () => {
  it("pages through the team connectors and the caller's personal ones, each once, in id order", async () => {
    const org = await h.token({ sub: "pat", orgId: "paging", role: "admin" });
    const peer = await h.token({ sub: "quinn", orgId: "paging" });
    for (const id of ["p-1", "p-2", "p-3", "p-4", "p-5"])
      await api("PUT", `/connectors/${id}`, org, body({ scope: "team" }));
    // Someone else's personal connectors sit between them: never shown, and pages stay full.
    for (const id of ["p-2a", "p-2b", "p-2c"])
      await api("PUT", `/connectors/${id}`, peer, body({ scope: "personal" }));
    await api("PUT", "/connectors/p-3a", org, body({ scope: "personal" }));

    const seen: string[][] = [];
    let cursor: string | undefined;
    do {
      const page = await api("GET", `/connectors?limit=2${cursor ? `&cursor=${cursor}` : ""}`, org);
      expect(page.status).toBe(200);
      seen.push((page.body.connectors as { connectorId: string }[]).map((c) => c.connectorId));
      cursor = page.body.nextCursor as string | undefined;
    } while (cursor);
    expect(seen).toEqual([
      ["p-1", "p-2"],
      ["p-3", "p-3a"],
      ["p-4", "p-5"],
    ]);

    const peerView = await api("GET", "/connectors", peer);
    expect((peerView.body.connectors as { connectorId: string }[]).map((c) => c.connectorId)).toEqual([
      "p-1",
      "p-2",
      "p-2a",
      "p-2b",
      "p-2c",
      "p-3",
      "p-4",
      "p-5",
    ]);
    expect(peerView.body.nextCursor).toBeUndefined();
    expect(JSON.stringify(peerView.body)).not.toContain(CLIENT.clientSecret);
  });

  it("shows another org nothing and refuses a bad cursor or limit (400)", async () => {
    const stranger = await h.token({ sub: "sam", orgId: "empty-org" });
    const empty = await api("GET", "/connectors", stranger);
    expect(empty.body).toEqual({ success: true, connectors: [] });
    for (const query of ["limit=0", "limit=101", "limit=two", "cursor=%%%", "cursor=Zm9vIGJhcg"]) {
      const answer = await api("GET", `/connectors?${query}`, admin);
      expect(answer.status, query).toBe(400);
      expect(messageOf(answer)).toMatch(/limit|cursor/);
    }
  });
});

describe("DELETE /connectors/{connectorId}", () => {
  it("revokes the grant at the provider, removes tokens and definition", async () => {
    await api("PUT", "/connectors/to-delete", admin, body());
    await connect("to-delete");
    const before = h.provider.requests.filter((r) => r.path === "/token/revocation").length;
    const deleted = await api("DELETE", "/connectors/to-delete", admin);
    expect(deleted.status).toBe(200);
    expect(deleted.body).toEqual({
      success: true,
      connectorId: "to-delete",
      deleted: true,
      revocation: "revoked",
    });
    expect(h.provider.requests.filter((r) => r.path === "/token/revocation").length).toBeGreaterThan(before);
    expect(await h.connectors.get("acme", "to-delete")).toBeUndefined();
    expect((await api("GET", "/connectors/to-delete", admin)).status).toBe(404);
    expect((await api("DELETE", "/connectors/to-delete", admin)).status).toBe(404);
  });

  it("follows the PUT rules: member on a team connector 403, another's personal 404, stale If-Match 409", async () => {
    await api("PUT", "/connectors/kept-team", admin, body({ scope: "team" }));
    await api("PUT", "/connectors/kept-personal", member, body({ scope: "personal" }));
    expect((await api("DELETE", "/connectors/kept-team", member)).status).toBe(403);
    expect((await api("DELETE", "/connectors/kept-personal", otherMember)).status).toBe(404);
    expect((await api("DELETE", "/connectors/kept-personal", globexAdmin)).status).toBe(404);
    expect(
      (await api("DELETE", "/connectors/kept-team", admin, undefined, { "if-match": '"7"' })).status,
    ).toBe(409);
    expect(await h.connectors.get("acme", "kept-team")).toBeDefined();
    expect(await h.connectors.get("acme", "kept-personal")).toBeDefined();
    const own = await api("DELETE", "/connectors/kept-personal", member, undefined, { "if-match": '"1"' });
    expect(own.body).toMatchObject({ deleted: true, revocation: "no_tokens" });
    expect(await h.connectors.get("acme", "kept-personal")).toBeUndefined();
  });
});

describe("audit", () => {
  it("logs one line per change with who and what, and never the client secret", async () => {
    const secret = "audit-client-secret-0f9e8d7c6b";
    await api("PUT", "/connectors/audited", admin, body({ clientSecret: secret }));
    await api("PUT", "/connectors/audited", admin, body({ name: "Audited", clientSecret: undefined }));
    await api("DELETE", "/connectors/audited", admin);
    const lines = h.logs
      .flatMap((chunk) => chunk.split("\n"))
      .filter((line) => line.includes('"connectorId":"audited"') && line.includes('"audit"'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines.map((l) => l.audit)).toEqual([
      "connector.created",
      "connector.updated",
      "connector.deleted",
    ]);
    expect(lines.every((l) => l.by === "alice" && l.orgId === "acme")).toBe(true);
    expect(lines[0]?.clientSecretChanged).toBe(true);
    expect(lines[1]?.clientSecretChanged).toBe(false);
    expect(h.logs.join("")).not.toContain(secret);
  });
});

describe("lost replies", () => {
  let f: FaultEnv;
  beforeAll(async () => {
    f = await startFaultEnv();
  });
  afterEach(() => f.proxies.dynamodb.disarm());
  afterAll(() => f?.close());

  const faulty = (method: string, path: string, b?: unknown, headers?: Record<string, string>) =>
    send(f.h.api.url, method, path, f.adminToken, b, headers);
  const definition = (fields: Record<string, unknown> = {}) => {
    const { createdBy: _c, ...d } = demoConnector(f.h.provider, fields);
    return d;
  };
  const updates = () => f.proxies.dynamodb.log.filter((r) => r.operation === "UpdateItem").length;

  it("a PUT whose write reply is lost recognises its own write on the SDK's retry: created once, version 1", async () => {
    f.proxies.dynamodb.arm({ kind: "applied", match: (r) => r.operation === "UpdateItem" });
    const before = updates();
    const created = await faulty("PUT", "/connectors/lost-put", definition({ name: "once" }));
    expect(f.proxies.dynamodb.matched()).toBe(1);
    expect(updates() - before).toBe(2);
    expect(created.status).toBe(201);
    expect(connectorOf(created)).toMatchObject({ version: 1, name: "once" });
    expect((await f.h.connectors.get("acme", "lost-put"))?.version).toBe(1);
  });

  it("an If-Match PUT whose reply is lost still succeeds (its retry meets its own write, not a conflict)", async () => {
    await faulty("PUT", "/connectors/lost-match", definition());
    f.proxies.dynamodb.arm({ kind: "applied", match: (r) => r.operation === "UpdateItem" });
    const changed = await faulty("PUT", "/connectors/lost-match", definition({ name: "two" }), {
      "if-match": '"1"',
    });
    expect(f.proxies.dynamodb.matched()).toBe(1);
    expect(changed.status).toBe(200);
    expect(connectorOf(changed)).toMatchObject({ version: 2, name: "two" });
  });

  it("a DELETE whose reply is lost answers deleted, and the connector is gone", async () => {
    await faulty("PUT", "/connectors/lost-delete", definition());
    f.proxies.dynamodb.arm({ kind: "applied", match: (r) => r.operation === "DeleteItem" });
    const deleted = await faulty("DELETE", "/connectors/lost-delete", undefined, { "if-match": '"1"' });
    expect(f.proxies.dynamodb.matched()).toBe(1);
    expect(deleted.status).toBe(200);
    expect(await f.h.connectors.get("acme", "lost-delete")).toBeUndefined();
  });

  it("a DynamoDB outage answers 503 and writes nothing", async () => {
    f.proxies.dynamodb.arm({ kind: "error", match: (r) => r.operation === "UpdateItem" });
    const answer = await faulty("PUT", "/connectors/outage", definition());
    expect(answer.status).toBe(503);
    expect(codeOf(answer)).toBe("dependency_unavailable");
    f.proxies.dynamodb.disarm();
    expect(await f.h.connectors.get("acme", "outage")).toBeUndefined();
  });
});
