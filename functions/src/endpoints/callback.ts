/** GET /connectors/oauth/callback: the provider's redirect target (302, or JSON on request). */
import { type CallbackErrorCode, completeConnect } from "@connector-oauth/core";
import type { EndpointFactory } from "../composition.ts";
import { describeFailure, htmlPage, json, redirect, wantsJson } from "../edge/http.ts";

const OUTCOME_MESSAGES: Record<CallbackErrorCode, string> = {
  access_denied: "Access was not granted at the provider.",
  provider_error: "The provider reported an error.",
  token_exchange_failed: "The provider did not accept the sign-in. Try connecting again.",
  state_expired: "The sign-in took too long. Try connecting again.",
  iss_mismatch: "The response did not come from the expected provider.",
  account_mismatch: "The account that signed in is not the one that started connecting.",
  invalid_request: "The provider's response was incomplete.",
  server_error: "Something went wrong while connecting. Try again later.",
};

export const callback: EndpointFactory =
  ({ core, verifyCaller, log }) =>
  async (request) => {
    const asJson = wantsJson(request);
    try {
      // A relay (PipesHub's frontend) may forward the user's bearer: then it must be the initiator's.
      const authorization = request.headers.authorization;
      const caller = authorization === undefined ? undefined : await verifyCaller(authorization);
      const outcome = await completeConnect(core, request.query, { caller });
      if (!asJson) return redirect(outcome.redirectUrl);
      const { ok, redirectUrl, connectorId, error, connectedAccount } = outcome;
      const errorMessage = error && OUTCOME_MESSAGES[error];
      return json(200, { success: ok, redirectUrl, connectorId, error, errorMessage, connectedAccount });
    } catch (error) {
      // A browser gets a page, not the adapter's JSON: nothing trustworthy to redirect to, so it links
      // to the default app origin.
      const { code, status, message } = describeFailure(error, log);
      if (asJson) return json(status, { success: false, error: { code, message } });
      return htmlPage(status, "Connection not completed", message, core.settings.appOrigins[0] ?? "/");
    }
  };
