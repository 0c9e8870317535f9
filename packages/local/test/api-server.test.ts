/**
 * The local API's own answers, as bytes on the wire: bad percent-encoding, unknown routes, wrong
 * methods and foreign Host names get the service's error shape with a code from the closed set;
 * a held API answers nothing until it is opened.
 */
import { request } from "node:http";
import { afterEach, describe, expect, it } from "vitest";
import { type LocalApi, startLocalApi } from "../src/api-server.ts";

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
