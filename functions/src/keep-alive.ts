/** Lambda entry of the keep-alive job, invoked by an EventBridge schedule (stacks/lifecycle.ts). */
import { deployedEnv } from "./edge/linked-settings.ts";
import { keepAliveJob } from "./jobs/keep-alive.ts";

export const handler = keepAliveJob(deployedEnv());
