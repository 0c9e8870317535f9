import { describe, expect, it } from "vitest";
import { loadConnector } from "../src/connectors.ts";
import { isServiceError } from "../src/errors.ts";
import type { ConnectorRecord } from "../src/types.ts";

const record = { orgId: "acme", connectorId: "c1" } as ConnectorRecord;

/** A store holding `record`, counting its reads. */
function store() {
  const reads: string[] = [];
  return {
    reads,
    async get(orgId: string, connectorId: string) {
      reads.push(`${orgId}/${connectorId}`);
      return orgId === record.orgId && connectorId === record.connectorId ? record : undefined;
    },
  };
}

async function codeOf(run: () => Promise<unknown>): Promise<string | undefined> {
  try {
    await run();
  } catch (error) {
    return isServiceError(error) ? error.code : "not a ServiceError";
  }
  return undefined;
}

describe("connectors", () => {
  it("loads a connector by org and id", async () => {
    const connectors = store();
    expect(await loadConnector(connectors, { orgId: "acme", connectorId: "c1" })).toBe(record);
    expect(connectors.reads).toEqual(["acme/c1"]);
  });

  it.each([
    ["another org's connector", { orgId: "other", connectorId: "c1" }, ["other/c1"]],
    ["an unknown id", { orgId: "acme", connectorId: "c2" }, ["acme/c2"]],
    ["an invalid connector id, reading nothing", { orgId: "acme", connectorId: "../c1" }, []],
    ["an invalid org id, reading nothing", { orgId: "a cme", connectorId: "c1" }, []],
  ])("answers connector_not_found for %s", async (_, key, reads) => {
    const connectors = store();
    expect(await codeOf(() => loadConnector(connectors, key))).toBe("connector_not_found");
    expect(connectors.reads).toEqual(reads);
  });
});
