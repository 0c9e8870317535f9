import { describe, expect, it } from "vitest";
import { isServiceError } from "../src/errors.ts";
import { parseLegacyRequest } from "../src/legacy.ts";

function codeOf(run: () => unknown): string | undefined {
  try {
    run();
  } catch (error) {
    return isServiceError(error) ? error.code : "not a ServiceError";
  }
  return undefined;
}

describe("legacy", () => {
  it("reads code or tempCode and defaults the connector to googleWorkspace when none is given", () => {
    expect(parseLegacyRequest({ code: "c-1" })).toEqual({ code: "c-1", connectorId: "googleWorkspace" });
    expect(parseLegacyRequest({ tempCode: "c-2", connectorId: "gw" })).toEqual({
      code: "c-2",
      connectorId: "gw",
    });
  });

  it("refuses with invalid_request when the body has no code or a connectorId that is not a string", () => {
    expect(codeOf(() => parseLegacyRequest(undefined))).toBe("invalid_request");
    expect(codeOf(() => parseLegacyRequest({ code: "" }))).toBe("invalid_request");
    expect(codeOf(() => parseLegacyRequest({ code: "c", connectorId: 7 }))).toBe("invalid_request");
  });
});
