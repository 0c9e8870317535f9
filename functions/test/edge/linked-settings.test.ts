/**
 * functions/src/edge/linked-settings.ts against SST's real `Resource` (node_modules/sst), fed the
 * way a deployed function is: SST_RESOURCE_App plus one SST_RESOURCE_<Name> (JSON) per link.
 * Resource reads the environment once, on first use, so the no-SST case runs first.
 */
import { describe, expect, it } from "vitest";
import { linkedSettings } from "../../src/edge/linked-settings.ts";

const link = (properties: object) => JSON.stringify({ type: "sst.sst.Linkable", ...properties });

describe("linked-settings", () => {
  it("returns nothing when the process does not run under SST", () => {
    delete process.env.SST_RESOURCE_App;
    expect(linkedSettings()).toEqual({});
  });

  it("maps the links a function has and skips the others and the empty optional values", () => {
    Object.assign(process.env, {
      SST_RESOURCE_App: JSON.stringify({ name: "connector-oauth", stage: "ci" }),
      SST_RESOURCE_Table: link({ name: "connector-oauth-ci" }),
      SST_RESOURCE_DataKey: link({ arn: "arn:aws:kms:us-east-1:123456789012:key/data" }),
      SST_RESOURCE_Auth: link({
        hs256Secret: "s".repeat(32),
        jwksUrl: "",
        issuer: "https://app.example.com",
        audience: "",
      }),
    });
    expect(linkedSettings()).toEqual({
      TABLE_NAME: "connector-oauth-ci",
      DATA_KEY_ID: "arn:aws:kms:us-east-1:123456789012:key/data",
      AUTH_HS256_SECRET: "s".repeat(32),
      AUTH_ISSUER: "https://app.example.com",
    });
  });
});
