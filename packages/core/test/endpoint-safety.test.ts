/**
 * Provider endpoints never aim at internal addresses (issue 9 point 9): a template pattern written
 * too loosely, or a custom endpoint, still cannot send a token request to an IP literal.
 */
import { describe, expect, it } from "vitest";
import { type Catalog, resolveProvider } from "../src/catalog.ts";
import { isInternalHost } from "../src/endpoint-safety.ts";
import { connector } from "./fixtures.ts";

/** An entry whose pattern admits any safe value, IP addresses included. */
const loose: Catalog = {
  loose: {
    name: "Loose",
    docs: "test",
    authorizationUrl: "https://{host}/authorize",
    tokenUrl: "https://{host}/token",
    defaultScopes: [],
    templates: { host: { pattern: "^.+$", description: "any host", example: "example.com" } },
  },
};

describe("endpoint safety", () => {
  it.each(["169.254.169.254", "10.0.0.1", "192.168.1.10", "172.16.0.1", "127.0.0.1", "0.0.0.0"])(
    "refuses a templated host that resolves to the IP literal %s",
    (host) => {
      const options = { catalog: loose, allowLoopbackHttp: false };
      expect(() => resolveProvider(connector("loose", { params: { host } }), options)).toThrow(
        /must name a public host/,
      );
    },
  );

  it("accepts a public DNS name, and loopback stand-ins only in loopback mode", () => {
    const options = { catalog: loose, allowLoopbackHttp: false };
    const resolved = resolveProvider(connector("loose", { params: { host: "idp.example.com" } }), options);
    expect(resolved.tokenUrl).toBe("https://idp.example.com/token");
    const local = { catalog: loose, allowLoopbackHttp: true };
    expect(resolveProvider(connector("loose", { params: { host: "127.0.0.1" } }), local).tokenUrl).toBe(
      "https://127.0.0.1/token",
    );
    expect(() => resolveProvider(connector("loose", { params: { host: "10.0.0.1" } }), local)).toThrow(
      /public host/,
    );
  });

  it.each([
    ["[::1]", true],
    ["[fe80::1]", true],
    ["localhost", true],
    ["api.localhost", true],
    ["metadata", true],
    ["ip-10-0-0-1.ec2.internal", true],
    ["printer.local", true],
    ["login.microsoftonline.com", false],
    ["acme.service-now.com", false],
  ])("classifies %s as internal: %s", (host, internal) => {
    expect(isInternalHost(host)).toBe(internal);
  });
});
