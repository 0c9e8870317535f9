/**
 * Records every AWS call made while a label is set, with a real SDK middleware added to every client
 * the way bench/call-counter.ts adds its counter (so it reaches the clients the handlers' composition
 * roots build and never export).
 *
 * `toRequest` turns a recorded call into what IAM evaluates: action, resource ARN and the request
 * context AWS derives from the call (dynamodb:LeadingKeys, kms:EncryptionContext*, kms:MacAlgorithm),
 * per the service authorization references (DynamoDB: "Using IAM policy conditions for fine-grained
 * access control"; KMS: "AWS KMS condition keys").
 */
import type { InitializeMiddleware } from "@smithy/types";
import { addToEveryClient } from "../../bench/call-counter.ts";

export interface AwsCall {
  /** Who made it: the label set by `recordAs`. */
  caller: string;
  service: "DynamoDB" | "KMS";
  operation: string;
  input: Record<string, unknown>;
}

let label: string | undefined;
let calls: AwsCall[] = [];

const record: InitializeMiddleware<object, object> = (next, context) => (args) => {
  if (label) {
    const service = context.clientName?.replace(/Client$/, "") as AwsCall["service"];
    const operation = String(context.commandName).replace(/Command$/, "");
    calls.push({ caller: label, service, operation, input: structuredClone(args.input as object) as never });
  }
  return next(args);
};

let installed = false;
/** Installs the hook once per process; clients that send afterwards get the recorder. */
export function installRecorder(): void {
  if (installed) return;
  installed = true;
  addToEveryClient(record, "iamCallRecorder");
}

/** Runs `work` with its AWS calls attributed to `caller` (one caller at a time). */
export async function recordAs<T>(caller: string, work: () => Promise<T>): Promise<T> {
  if (label) throw new Error(`already recording for ${label}`);
  label = caller;
  try {
    return await work();
  } finally {
    label = undefined;
  }
}

export function recordedCalls(): AwsCall[] {
  return calls;
}

export function clearCalls(): void {
  calls = [];
}

/** Where the local resources stand in the deployed stage. */
export interface Deployed {
  tableArn: string;
  /** Local key id -> deployed key ARN. */
  keys: Record<string, string>;
}

export interface IamRequest {
  action: string;
  resource: string;
  context: Record<string, string | string[]>;
}

type AttributeMap = Record<string, { S?: string }>;
const pkOf = (item: unknown) => {
  const pk = (item as AttributeMap | undefined)?.pk?.S;
  if (pk === undefined) throw new Error("item without a string pk");
  return pk;
};

/** The partition keys a DynamoDB call names (what AWS puts in dynamodb:LeadingKeys). */
function leadingKeys(operation: string, input: Record<string, unknown>): string[] | undefined {
  switch (operation) {
    case "GetItem":
    case "UpdateItem":
    case "DeleteItem":
      return [pkOf(input.Key)];
    case "PutItem":
      return [pkOf(input.Item)];
    case "Query": {
      // KeyConditionExpression "pk = :v ..." (the adapters' only form).
      const name = String(input.KeyConditionExpression).match(/^pk = (:\w+)/)?.[1];
      if (!name) throw new Error(`unmodelled Query key condition ${String(input.KeyConditionExpression)}`);
      return [pkOf({ pk: (input.ExpressionAttributeValues as AttributeMap)[name] })];
    }
    case "BatchGetItem": {
      const tables = Object.values(input.RequestItems as Record<string, { Keys: unknown[] }>);
      return tables.flatMap((table) => table.Keys.map(pkOf));
    }
    case "Scan":
      return undefined;
    default:
      throw new Error(`unmodelled DynamoDB operation ${operation}: extend test/infra/aws-calls.ts`);
  }
}

/** The IAM request a recorded call is authorized as, against the deployed resources. */
export function toRequest(call: AwsCall, deployed: Deployed): IamRequest {
  const { operation, input } = call;
  if (call.service === "DynamoDB") {
    const keys = leadingKeys(operation, input);
    const context: Record<string, string | string[]> = keys ? { "dynamodb:LeadingKeys": keys } : {};
    if (typeof input.ReturnValues === "string") context["dynamodb:ReturnValues"] = input.ReturnValues;
    if (typeof input.Select === "string") context["dynamodb:Select"] = input.Select;
    return { action: `dynamodb:${operation}`, resource: deployed.tableArn, context };
  }
  const keyId = String(input.KeyId);
  const resource = deployed.keys[keyId];
  if (!resource) throw new Error(`KMS call on an unknown key ${keyId}`);
  const context: Record<string, string | string[]> = {};
  if (typeof input.MacAlgorithm === "string") context["kms:MacAlgorithm"] = input.MacAlgorithm;
  const encryptionContext = input.EncryptionContext as Record<string, string> | undefined;
  if (encryptionContext) {
    context["kms:EncryptionContextKeys"] = Object.keys(encryptionContext);
    for (const [key, value] of Object.entries(encryptionContext))
      context[`kms:EncryptionContext:${key}`] = value;
  }
  return { action: `kms:${operation}`, resource, context };
}
