/** stacks/validate.ts: the deploy-time checks of stage settings. */
import { describe, expect, it } from "vitest";
import {
  checkAppOrigins,
  checkAuth,
  checkPath,
  checkPrincipalArns,
  checkPublicApiUrl,
} from "../../stacks/validate.ts";

describe("stacks/validate", () => {
  it("accepts exact https origins and trims the list when AppOrigins is well formed", () => {
    expect(checkAppOrigins(" https://app.example.com, http://localhost:5173 ")).toBe(
      "https://app.example.com,http://localhost:5173",
    );
  });

  it("names AppOrigins when an entry is not an exact https origin", () => {
    for (const bad of [
      "",
      "https://app.example.com/",
      "https://app.example.com/path",
      "http://app.example.com",
    ]) {
      expect(() => checkAppOrigins(bad)).toThrow(/^AppOrigins: /);
    }
  });

  it("rejects a success or error path that is not a single-slash absolute path", () => {
    expect(checkPath("SuccessPath", "")).toBe("");
    expect(checkPath("ErrorPath", "/done")).toBe("/done");
    expect(() => checkPath("ErrorPath", "//evil.example.com")).toThrow(/^ErrorPath: /);
    expect(() => checkPath("SuccessPath", "done")).toThrow(/^SuccessPath: /);
  });

  it("strips the trailing slash and refuses plain http when PublicApiUrl is set", () => {
    expect(checkPublicApiUrl("")).toBe("");
    expect(checkPublicApiUrl("https://api.example.com/")).toBe("https://api.example.com");
    expect(() => checkPublicApiUrl("http://api.example.com")).toThrow(/^PublicApiUrl: /);
  });

  it("requires exactly one of the HS256 secret and the JWKS URL, and a 16-character secret", () => {
    const secret = "s".repeat(16);
    const jwksUrl = "https://idp.example.com/jwks";
    expect(() => checkAuth({ hs256Secret: secret, jwksUrl: "" })).not.toThrow();
    expect(() => checkAuth({ hs256Secret: "", jwksUrl })).not.toThrow();
    expect(() => checkAuth({ hs256Secret: "", jwksUrl: "" })).toThrow(/exactly one/);
    expect(() => checkAuth({ hs256Secret: secret, jwksUrl })).toThrow(/exactly one/);
    expect(() => checkAuth({ hs256Secret: "short", jwksUrl: "" })).toThrow(/^AuthHs256Secret: /);
    expect(() => checkAuth({ hs256Secret: "", jwksUrl: "http://idp.example.com/jwks" })).toThrow(
      /^AuthJwksUrl: /,
    );
  });

  it("lists IAM role and user ARNs and refuses account roots and wildcards in TokenConsumerPrincipals", () => {
    expect(checkPrincipalArns("")).toEqual([]);
    expect(
      checkPrincipalArns(" arn:aws:iam::123456789012:role/sync, arn:aws:iam::123456789012:user/ops "),
    ).toEqual(["arn:aws:iam::123456789012:role/sync", "arn:aws:iam::123456789012:user/ops"]);
    for (const bad of [
      "arn:aws:iam::123456789012:root",
      "arn:aws:iam::123456789012:role/*",
      "123456789012",
      "arn:aws:sts::123456789012:assumed-role/sync/session",
    ]) {
      expect(() => checkPrincipalArns(bad)).toThrow(/^TokenConsumerPrincipals: /);
    }
  });
});
