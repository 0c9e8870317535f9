/**
 * A small HTTP fault proxy for integration tests: it sits between the handlers and one real service
 * (dynalite, the local KMS, or the provider's token endpoint) and forwards every request unchanged,
 * except those an armed fault matches, which it fails the way the real network or service would:
 *
 *   error     the service answers 500 (DynamoDB InternalServerError, KMSInternalException, or a
 *             token endpoint's `server_error`), every matching request, nothing forwarded
 *   throttle  400 ThrottlingException (AWS) / 429 (token endpoint), the first two matching requests
 *   reset     the TCP connection is reset before anything is forwarded, the first matching request
 *   applied   the request is forwarded and served, then the connection is reset before the reply:
 *             the write happened, its answer is lost (the first matching request)
 *   hang      nothing is forwarded and nothing answered until the client gives up, every request
 *   slow      every matching request is forwarded after `delayMs` (a delay under the deadline)
 *
 * Error shapes follow the services' JSON protocols: DynamoDB and KMS (awsJson1_0 / awsJson1_1) put
 * the error type in `__type` and `x-amzn-ErrorType`
 * (https://smithy.io/2.0/aws/protocols/aws-json-1_0-protocol.html#operation-error-serialization);
 * a token endpoint answers errors as RFC 6749 section 5.2 JSON.
 */
import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export type FaultKind = "error" | "throttle" | "reset" | "applied" | "hang" | "slow";
export const FAULT_KINDS: readonly FaultKind[] = ["error", "throttle", "reset", "applied", "hang", "slow"];
export type Service = "dynamodb" | "kms" | "provider";

/** A request as the proxy sees it: the AWS operation (from X-Amz-Target) and the parsed JSON body. */
export interface SeenRequest {
  method: string;
  path: string;
  operation?: string;
  body: Record<string, unknown>;
  text: string;
}

export interface Fault {
  kind: FaultKind;
  match: (request: SeenRequest) => boolean;
  /** For `slow`: how long each matching request waits before it is forwarded. */
  delayMs?: number;
}

export interface FaultProxy {
  url: string;
  /** Where requests go; set once the real service listens. */
  upstream: string;
  /** Arms one fault (replacing any other); `disarm` removes it. */
  arm(fault: Fault): void;
  disarm(): void;
  /** How many requests the armed fault matched so far. */
  matched(): number;
  /** Every request received, in order (tests compare the operations with the functions' IAM). */
  log: SeenRequest[];
  close(): Promise<void>;
}

const TIMES: Record<FaultKind, number> = {
  error: Number.POSITIVE_INFINITY,
  throttle: 2,
  reset: 1,
  applied: 1,
  hang: Number.POSITIVE_INFINITY,
  slow: Number.POSITIVE_INFINITY,
};

function errorReply(service: Service, kind: "error" | "throttle") {
  if (service === "provider") {
    return kind === "error"
      ? { status: 500, type: undefined, body: { error: "server_error" } }
      : { status: 429, type: undefined, body: { error: "slow_down" } };
  }
  const type =
    kind === "throttle"
      ? "ThrottlingException"
      : service === "kms"
        ? "KMSInternalException"
        : "InternalServerError";
  const qualified =
    service === "dynamodb" && kind === "error" ? `com.amazonaws.dynamodb.v20120810#${type}` : type;
  return {
    status: kind === "throttle" ? 400 : 500,
    type,
    body: {
      __type: qualified,
      message: kind === "throttle" ? "Rate exceeded" : "Internal failure (injected)",
    },
  };
}

async function readBody(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function parse(text: string, contentType: string | undefined): Record<string, unknown> {
  try {
    if (contentType?.includes("x-www-form-urlencoded")) return Object.fromEntries(new URLSearchParams(text));
    return text ? (JSON.parse(text) as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/** Sends the request on to the upstream and resolves with its whole response. */
function forward(upstream: string, request: IncomingMessage, body: Buffer) {
  const target = new URL(request.url ?? "/", upstream);
  return new Promise<{ status: number; headers: IncomingMessage["headers"]; body: Buffer }>(
    (resolve, reject) => {
      const outgoing = httpRequest(
        target,
        // Headers unchanged, Host included, as a TCP-level fault would leave them: the AWS SDK signs
        // the Host it sent, and the local services check that signature (packages/local/src/sigv4.ts).
        { method: request.method, headers: request.headers },
        (response) => {
          readBody(response).then(
            (data) => resolve({ status: response.statusCode ?? 502, headers: response.headers, body: data }),
            reject,
          );
        },
      );
      outgoing.on("error", reject);
      outgoing.end(body);
    },
  );
}

/** Starts a proxy for `service` on 127.0.0.1 (port 0). */
export async function startFaultProxy(service: Service): Promise<FaultProxy> {
  let armed: { fault: Fault; matched: number } | undefined;
  const proxy: FaultProxy = {
    url: "",
    upstream: "",
    arm: (fault) => {
      armed = { fault, matched: 0 };
    },
    disarm: () => {
      armed = undefined;
    },
    matched: () => armed?.matched ?? 0,
    log: [],
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };

  async function handle(request: IncomingMessage, response: ServerResponse) {
    const body = await readBody(request);
    const text = body.toString("utf8");
    const target = request.headers["x-amz-target"];
    const seen: SeenRequest = {
      method: request.method ?? "GET",
      path: new URL(request.url ?? "/", "http://proxy").pathname,
      operation: typeof target === "string" ? target.split(".").pop() : undefined,
      body: parse(text, request.headers["content-type"]),
      text,
    };
    proxy.log.push(seen);
    const current = armed;
    const hit = current && current.matched < TIMES[current.fault.kind] && current.fault.match(seen);
    const kind = hit && current ? current.fault.kind : undefined;
    if (hit && current) current.matched++;
    if (kind === "reset") return request.socket.destroy();
    if (kind === "hang") return; // the client's own timeout ends this
    if (kind === "error" || kind === "throttle") {
      const reply = errorReply(service, kind);
      const headers: Record<string, string> = {
        "content-type": service === "provider" ? "application/json" : "application/x-amz-json-1.0",
      };
      if (reply.type) headers["x-amzn-errortype"] = reply.type;
      response.writeHead(reply.status, headers);
      return response.end(JSON.stringify(reply.body));
    }
    if (kind === "slow") await new Promise((resolve) => setTimeout(resolve, current?.fault.delayMs ?? 0));
    const upstream = await forward(proxy.upstream, request, body);
    if (kind === "applied") return request.socket.destroy();
    const headers = { ...upstream.headers };
    delete headers["transfer-encoding"];
    headers["content-length"] = String(upstream.body.length);
    response.writeHead(upstream.status, headers);
    response.end(upstream.body);
  }

  const server = createServer((request, response) => {
    handle(request, response).catch(() => request.socket.destroy());
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  proxy.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return proxy;
}
