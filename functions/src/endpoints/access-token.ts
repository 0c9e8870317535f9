/**
 * POST /internal/orgs/{orgId}/connectors/{connectorId}/access-token: a sync worker's valid access
 * token, refreshed under the connector's lease when it expires within 5 minutes (the core's token
 * access). API Gateway's IAM authorizer admits only SigV4-signed callers allowed `execute-api:Invoke`
 * here; a request that reaches the function without that verification (a route deployed without the
 * authorizer) is refused, so a mis-deployment fails closed. One log line per call, never the token.
 */
import { type ConnectorStore, createTokenAccess, fail, isServiceError } from "@connector-oauth/core";
import type { EndpointFactory } from "../composition.ts";
import { json } from "../edge/http.ts";

/** The store, counting the token sets this process stored per connector (refreshes, for the log). */
function countingRefreshes(store: ConnectorStore, stored: Map<string, number>): ConnectorStore {
  const counting: ConnectorStore = Object.create(store);
  counting.saveTokens = async (input) => {
    const saved = await store.saveTokens(input);
    const key = `${input.orgId}/${input.connectorId}`;
    stored.set(key, (stored.get(key) ?? 0) + 1);
    return saved;
  };
  return counting;
}

export const accessToken: EndpointFactory = ({ lifecycle, log }) => {
  const stored = new Map<string, number>();
  // The lifecycle's stores, keys and in-request timing (composition.ts), counting stored token sets.
  const access = createTokenAccess({
    ...lifecycle,
    connectors: countingRefreshes(lifecycle.connectors, stored),
  });
  return async (request) => {
    const caller = request.iamCaller?.arn;
    if (!caller) throw fail("forbidden", "This route requires AWS IAM (SigV4) authorization");
    const orgId = request.pathParameters.orgId ?? "";
    const connectorId = request.pathParameters.connectorId ?? "";
    const key = `${orgId}/${connectorId}`;
    const before = stored.get(key) ?? 0;
    const line = () => ({ orgId, connectorId, caller, refreshed: (stored.get(key) ?? 0) > before });
    const token = await access.getAccessToken(orgId, connectorId).catch((error: unknown) => {
      log.info("access token refused", {
        ...line(),
        code: isServiceError(error) ? error.code : "internal_error",
      });
      throw error;
    });
    log.info("access token served", line());
    return json(200, {
      success: true,
      accessToken: token.accessToken,
      tokenType: token.tokenType,
      expiresAt: token.expiresAt,
      scopes: token.scopes,
      metadata: token.metadata,
    });
  };
};
