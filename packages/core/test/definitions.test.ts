import { describe, expect, it } from "vitest";
import { parseDefinition } from "../src/definitions.ts";
import { providers } from "../src/providers.ts";

const catalog = { catalog: providers, allowLoopbackHttp: false };
const base = {
  connectorId: "c1",
  orgId: "acme",
  scope: "team",
  createdBy: "alice",
  clientId: "id",
  clientSecret: "s",
};

describe("definitions", () => {
  it("accepts a catalog connector and a custom oauth2 connector", () => {
    expect(parseDefinition({ ...base, provider: "google-drive", scopes: ["a"] }, catalog).provider).toBe(
      "google-drive",
    );
    const custom = parseDefinition(
      {
        ...base,
        provider: "oauth2",
        endpoints: { authorizationUrl: "https://idp.example.com/a", tokenUrl: "https://idp.example.com/t" },
      },
      catalog,
    );
    expect(custom.endpoints?.tokenUrl).toBe("https://idp.example.com/t");
  });

  it.each([
    [{ provider: "servicenow" }, /"instance" is required/],
    [{ provider: "google-drive", extra: 1 }, /unknown field/],
    [{ provider: "google-drive", connectorId: "../x" }, /connectorId/],
    [{ provider: "google-drive", scope: "global" }, /scope/],
    [{ provider: "google-drive", scopes: ["a b"] }, /scopes/],
    [{ provider: "no-such-provider" }, /"provider" "no-such-provider" is not in the catalog/],
    [
      {
        provider: "oauth2",
        endpoints: { authorizationUrl: "http://127.0.0.1/a", tokenUrl: "https://x.example/t" },
      },
      /https/,
    ],
    [{ provider: "google-drive", endpoints: {} }, /only oauth2/],
    [{ provider: "google-drive", clientId: "" }, /clientId/],
  ])("refuses %j with a message naming the problem", (change, message) => {
    expect(() => parseDefinition({ ...base, ...change }, catalog)).toThrow(message);
  });

  it("accepts loopback http endpoints only in local mode", () => {
    const local = { ...catalog, allowLoopbackHttp: true };
    const endpoints = {
      authorizationUrl: "http://127.0.0.1:4000/auth",
      tokenUrl: "http://localhost:4000/token",
    };
    expect(
      parseDefinition({ ...base, provider: "oauth2", endpoints }, local).endpoints?.authorizationUrl,
    ).toContain("127.0.0.1");
    expect(() =>
      parseDefinition(
        { ...base, provider: "oauth2", endpoints: { ...endpoints, tokenUrl: "http://10.0.0.1/t" } },
        local,
      ),
    ).toThrow(/https/);
  });
});
