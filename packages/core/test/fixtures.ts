/** Fixtures shared by the core's unit tests. */
import type { ConnectorConfig } from "../src/types.ts";

/** A team connector of org `acme` for `provider`, with `fields` on top. */
export function connector(provider: string, fields: Partial<ConnectorConfig> = {}): ConnectorConfig {
  return {
    connectorId: "c1",
    orgId: "acme",
    provider,
    scope: "team",
    createdBy: "alice",
    clientId: "client-1",
    ...fields,
  };
}
