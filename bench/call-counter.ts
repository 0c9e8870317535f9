/**
 * Counts AWS calls by service and operation with a real SDK middleware, without touching production
 * code: every smithy client (KMS, DynamoDB, ...) shares one base class, whose `send` is wrapped here so
 * that each client instance gets the counting middleware once, before its first request. Works on
 * clients built later by the handlers' composition root, whose clients are not exported.
 */
import { __Client as SmithyClient } from "@aws-sdk/client-kms";
import type { InitializeMiddleware } from "@smithy/types";

export type Tally = Map<string, number>;

let recording: Tally | undefined;

const countCalls: InitializeMiddleware<object, object> = (next, context) => (args) => {
  if (recording) {
    // KMSClient/GenerateMacCommand -> KMS GenerateMac
    const name = `${context.clientName?.replace(/Client$/, "")} ${context.commandName?.replace(/Command$/, "")}`;
    recording.set(name, (recording.get(name) ?? 0) + 1);
  }
  return next(args);
};

/**
 * Adds `middleware` (initialize step) to every smithy client that sends from now on, once per
 * client instance. Also used by test/infra/aws-calls.ts to record the calls IAM must allow.
 */
export function addToEveryClient(middleware: InitializeMiddleware<object, object>, name: string) {
  const withMiddleware = new WeakSet<object>();
  const send = SmithyClient.prototype.send as (...args: unknown[]) => unknown;
  SmithyClient.prototype.send = function (this: InstanceType<typeof SmithyClient>, ...args: unknown[]) {
    if (!withMiddleware.has(this)) {
      withMiddleware.add(this);
      this.middlewareStack.add(middleware as never, { step: "initialize", name });
    }
    return send.apply(this, args);
  } as typeof SmithyClient.prototype.send;
}

/** Installs the hook; every client that sends afterwards gets the counter (once). */
export function installCallCounter() {
  addToEveryClient(countCalls, "benchCallCounter");
}

/** Runs `work` and returns its value with the AWS calls it made, by "Service Operation". */
export async function countCallsDuring<T>(work: () => Promise<T>): Promise<{ value: T; calls: Tally }> {
  const calls: Tally = new Map();
  recording = calls;
  try {
    return { value: await work(), calls };
  } finally {
    recording = undefined;
  }
}
