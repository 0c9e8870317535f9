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

  it("answers connector_not_found for another org's connector or an unknown id", async () => {
    const connectors = store();
    expect(await codeOf(() => loadConnector(connectors, { orgId: "other", connectorId: "c1" }))).toBe(
      "connector_not_found",
    );
    expect(await codeOf(() => loadConnector(connectors, { orgId: "acme", connectorId: "c2" }))).toBe(
      "connector_not_found",
    );
  });

  it("answers connector_not_found without reading the store when an id is not a valid id", async () => {
    const connectors = store();
    expect(await codeOf(() => loadConnector(connectors, { orgId: "acme", connectorId: "../c1" }))).toBe(
      "connector_not_found",
    );
    expect(await codeOf(() => loadConnector(connectors, { orgId: "a cme", connectorId: "c1" }))).toBe(
      "connector_not_found",
    );
    expect(connectors.reads).toEqual([]);
  });
});
