/**
 * A Lambda entry: the route's handler composed once, at module scope (reused by warm invocations),
 * from the function's environment and SST links, with exactly the needs its route-table entry lists.
 */
import { compose, type EndpointFactory } from "../composition.ts";
import { type HandlerAccess, needsOf } from "../routes.ts";
import { type LambdaHandler, lambdaHandler } from "./lambda.ts";
import { deployedEnv } from "./linked-settings.ts";

export function lambdaEntry(route: HandlerAccess, factory: EndpointFactory): LambdaHandler {
  const deps = compose(deployedEnv(), needsOf(route));
  return lambdaHandler(factory(deps), deps.log);
}
