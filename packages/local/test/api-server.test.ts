/**
 * The local API's own answers, as bytes on the wire: bad percent-encoding, unknown routes, wrong
 * methods and foreign Host names get the service's error shape with a code from the closed set;
 * a held API answers nothing until it is opened.
 */
import { request } from "node:http";
import { afterEach, describe, expect, it } from "vitest";
import { type LocalApi, startLocalApi } from "../src/api-server.ts";
import { signSigV4 } from "../src/sigv4.ts";

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** A raw HTTP request (fetch cannot set Host, nor send a path it considers malformed). */
function send(api: LocalApi, path: string, method = "GET", host = `127.0.0.1:${api.port}`): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port: api.port, path, method, headers: { host } }, (res) => {
      let body = "";
      res
        .on("data", (chunk) => (body += chunk))
        .on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on("error", reject).end();
  });
}

const echo = async (event: { pathParameters?: Record<string, string | undefined> }) => ({
  statusCode: 200,
  body: JSON.stringify(event.pathParameters),
});

describe("local API", () => {
  let api: LocalApi;
  const start = async (options: { held?: boolean; hosts?: string[] } = {}) => {
    api = await startLocalApi({
      routes: [{ method: "GET", path: "/connectors/{connectorId}/oauth/authorize", handler: echo }],
      ...options,
    });
    return api;
  };
  afterEach(() => api?.close());

  it("passes decoded path parameters, and answers 400 invalid_request when they do not decode", async () => {
    await start();
    expect(JSON.parse((await send(api, "/connectors/a%2Fb/oauth/authorize")).body)).toEqual({
      connectorId: "a/b",
    });
    const bad = await send(api, "/connectors/%/oauth/authorize");
    expect(bad.status).toBe(400);
    expect(bad.headers["content-type"]).toBe("application/json; charset=utf-8");
    expect(JSON.parse(bad.body)).toMatchObject({ success: false, error: { code: "invalid_request" } });
  });

  it("answers 404 route_not_found for an unknown path and 405 with Allow for another method", async () => {
    await start();
    const unknown = await send(api, "/nowhere");
    expect(unknown.status).toBe(404);
    expect(JSON.parse(unknown.body)).toMatchObject({ success: false, error: { code: "route_not_found" } });
    const wrong = await send(api, "/connectors/x/oauth/authorize", "POST");
    expect(wrong.status).toBe(405);
    expect(wrong.headers.allow).toBe("GET");
    expect(JSON.parse(wrong.body)).toMatchObject({ success: false, error: { code: "method_not_allowed" } });
  });

  it("refuses a Host that is not its own (DNS rebinding) and accepts the configured one", async () => {
    await start({ hosts: ["api.example.test"] });
    const path = "/connectors/x/oauth/authorize";
    for (const host of [
      "evil.example",
      `evil.example:${api.port}`,
      "127.0.0.1.evil.example",
      "localhost@evil.example",
    ]) {
      const refused = await send(api, path, "GET", host);
      expect(refused.status).toBe(403);
      expect(JSON.parse(refused.body)).toMatchObject({ error: { code: "forbidden" } });
    }
    for (const host of [`localhost:${api.port}`, "127.0.0.1", "api.example.test", "LOCALHOST"])
      expect((await send(api, path, "GET", host)).status).toBe(200);
  });

  it("holds requests until opened", async () => {
    await start({ held: true });
    let answered = false;
    const pending = send(api, "/connectors/x/oauth/authorize").then((answer) => {
      answered = true;
      return answer;
    });
    await new Promise((done) => setTimeout(done, 200));
    expect(answered).toBe(false);
    api.open();
    expect((await pending).status).toBe(200);
  });
});

describe("local API, IAM routes", () => {
  const TOKEN_PATH = "/internal/orgs/{orgId}/connectors/{connectorId}/access-token";
  const credentials = { accessKeyId: "LOCALTESTKEY", secretAccessKey: "local-test-secret" };
  let api: LocalApi;
  afterEach(() => api?.close());

  /** Answers with the authorizer context the handler was given. */
  const authorizerEcho = async (event: { requestContext: { authorizer?: unknown } }) => ({
    statusCode: 200,
    body: JSON.stringify(event.requestContext.authorizer ?? null),
  });

  async function post(signWith?: typeof credentials) {
    const url = `${api.url}/internal/orgs/acme/connectors/c1/access-token`;
    const signed = signWith
      ? await signSigV4({ method: "POST", url }, signWith, { region: "us-east-1", service: "execute-api" })
      : {};
    const { host: _host, ...headers } = signed as Record<string, string>;
    const response = await fetch(url, { method: "POST", headers });
    return { status: response.status, body: (await response.json()) as unknown };
  }

  it("passes API Gateway's IAM identity to the handler of a route the table marks iam, when signed right", async () => {
    api = await startLocalApi({
      routes: [{ method: "POST", path: TOKEN_PATH, handler: authorizerEcho as never }],
      credentials: () => credentials,
    });
    expect(await post(credentials)).toEqual({
      status: 200,
      body: {
        iam: {
          accessKey: "LOCALTESTKEY",
          accountId: "000000000000",
          callerId: "LOCALTESTKEY",
          cognitoIdentity: null,
          principalOrgId: null,
          userArn: "arn:aws:iam::000000000000:user/local",
          userId: "LOCALTESTKEY",
        },
      },
    });
    const refused = await post({ ...credentials, secretAccessKey: "other" });
    expect(refused).toMatchObject({ status: 403, body: { success: false, error: { code: "forbidden" } } });
  });

  it("refuses every request on an IAM route while it has no credentials", async () => {
    api = await startLocalApi({
      routes: [{ method: "POST", path: TOKEN_PATH, handler: authorizerEcho as never }],
    });
    expect(await post(credentials)).toMatchObject({ status: 403, body: { error: { code: "forbidden" } } });
  });

  it("passes no authorizer on a route the table does not mark iam", async () => {
    api = await startLocalApi({
      routes: [
        {
          method: "GET",
          path: "/connectors/{connectorId}/oauth/authorize",
          handler: authorizerEcho as never,
        },
      ],
      credentials: () => credentials,
    });
    const response = await fetch(`${api.url}/connectors/c1/oauth/authorize`);
    expect({ status: response.status, body: await response.json() }).toEqual({ status: 200, body: null });
  });
});
