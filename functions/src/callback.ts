/** GET /connectors/oauth/callback: the provider's redirect target (302, or JSON on request). */
import { type CallbackErrorCode, completeConnect } from "@connector-oauth/core";
import { compose, logger } from "./composition.ts";
import { describeFailure, type HttpRequest, htmlPage, json, redirect, wantsJson } from "./edge/http.ts";
import { lambdaHandler } from "./edge/lambda.ts";

const { deps, verifyCaller } = compose(["stateKey", "dataKey", "connect", "auth"]);

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

export async function callback(request: HttpRequest) {
  const asJson = wantsJson(request);
  try {
    // A relay (PipesHub's frontend) may forward the user's bearer: then it must be the initiator's.
    const authorization = request.headers.authorization;
    const caller = authorization === undefined ? undefined : await verifyCaller(authorization);
    const outcome = await completeConnect(deps, request.query, { caller });
    if (!asJson) return redirect(outcome.redirectUrl);
    const { ok, redirectUrl, connectorId, error, connectedAccount } = outcome;
    const errorMessage = error && OUTCOME_MESSAGES[error];
    return json(200, { success: ok, redirectUrl, connectorId, error, errorMessage, connectedAccount });
  } catch (error) {
    // Nothing trustworthy to redirect to: answer here, linking to the default app origin.
    const { code, status, message } = describeFailure(error, logger);
    if (asJson) return json(status, { success: false, error: { code, message } });
    return htmlPage(status, "Connection not completed", message, deps.settings.appOrigins[0] ?? "/");
  }
}

export const handler = lambdaHandler(callback);
