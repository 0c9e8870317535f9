/**
 * Checks an AWS Signature Version 4 on a received request by signing it again with the AWS SDK's
 * own signer (@smithy/signature-v4, what every SDK client signs with) and comparing signatures, so
 * the local services accept exactly what a real AWS endpoint would accept from these credentials.
 * The header form only (`Authorization: AWS4-HMAC-SHA256 Credential=..., SignedHeaders=...,
 * Signature=...` with `X-Amz-Date`), as the SDK sends it:
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-signing-elements.html
 * A request more than 15 minutes from now is refused, as AWS does ("Signature expired"):
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-troubleshooting.html
 */
import { createHash, timingSafeEqual } from "node:crypto";
import type { IncomingHttpHeaders } from "node:http";
import { Hash } from "@smithy/core/serde";
import { SignatureV4 } from "@smithy/signature-v4";

export interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
}

export interface ReceivedRequest {
  method: string;
  /** Path and query as received (`request.url`). */
  url: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** Why a request was refused, named as the AWS JSON services name it (the SDK maps `type`). */
export interface SigV4Refusal {
  type: "MissingAuthenticationTokenException" | "UnrecognizedClientException" | "InvalidSignatureException";
  message: string;
}

const MAX_SKEW_MS = 15 * 60_000;
const AUTHORIZATION =
  /^AWS4-HMAC-SHA256 Credential=([^/,\s]+)\/(\d{8})\/([^/,\s]+)\/([^/,\s]+)\/aws4_request,\s*SignedHeaders=([a-z0-9;-]+),\s*Signature=([0-9a-f]{64})$/;

/** The SDK's own SHA-256 (node:crypto behind it), as the signer's checksum constructor. */
class Sha256 extends Hash {
  constructor(secret?: ConstructorParameters<typeof Hash>[1]) {
    super("sha256", secret);
  }
}

const refuse = (type: SigV4Refusal["type"], message: string): SigV4Refusal => ({ type, message });

/** 20261202T150000Z -> Date, or undefined. */
function amzDate(value: string | undefined): Date | undefined {
  const m = /^(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)Z$/.exec(value ?? "");
  return m ? new Date(`${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}Z`) : undefined;
}

/** The request as the signer sees it: only the headers the client said it signed. */
function signable(request: ReceivedRequest, signedHeaders: string[]) {
  const url = new URL(request.url, "http://placeholder");
  const query: Record<string, string | string[]> = {};
  for (const [name, value] of url.searchParams) {
    const seen = query[name];
    query[name] = seen === undefined ? value : [...(Array.isArray(seen) ? seen : [seen]), value];
  }
  const headers: Record<string, string> = {};
  for (const name of signedHeaders) {
    const value = request.headers[name];
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(",") : value;
  }
  // The signer takes a signed x-amz-content-sha256 as the body's hash without hashing the body:
  // put the hash of the body actually received there, so a changed body fails the signature.
  if ("x-amz-content-sha256" in headers)
    headers["x-amz-content-sha256"] = createHash("sha256").update(request.body).digest("hex");
  const [hostname = "", port] = (request.headers.host ?? "").split(":");
  return {
    method: request.method,
    protocol: "http:",
    hostname,
    port: port ? Number(port) : undefined,
    path: url.pathname,
    query,
    headers,
    body: request.body,
  };
}

/** Undefined when `request` carries a valid SigV4 signature by `credentials` (for `scope.service`
 * when given), else why not. */
export async function verifySigV4(
  request: ReceivedRequest,
  credentials: Credentials,
  now = Date.now(),
  scope: { service?: string } = {},
): Promise<SigV4Refusal | undefined> {
  const authorization = request.headers.authorization;
  if (!authorization) return refuse("MissingAuthenticationTokenException", "Missing Authentication Token");
  const parts = AUTHORIZATION.exec(authorization);
  if (!parts) return refuse("InvalidSignatureException", "Malformed Authorization header");
  const [, accessKeyId, day, region, service, signedHeaderList, signature] = parts as unknown as string[];
  if (accessKeyId !== credentials.accessKeyId)
    return refuse("UnrecognizedClientException", "The security token included in the request is invalid.");
  // A signature for another service (a KMS request replayed here) is not one for this endpoint.
  if (scope.service !== undefined && service !== scope.service)
    return refuse("InvalidSignatureException", `Credential should be scoped to service '${scope.service}'`);
  const signedHeaders = (signedHeaderList as string).split(";");
  const date = amzDate(request.headers["x-amz-date"] as string | undefined);
  if (!date || !signedHeaders.includes("host") || !signedHeaders.includes("x-amz-date"))
    return refuse("InvalidSignatureException", "Host and X-Amz-Date must be signed");
  if (
    Math.abs(now - date.getTime()) > MAX_SKEW_MS ||
    !(request.headers["x-amz-date"] as string).startsWith(day as string)
  )
    return refuse("InvalidSignatureException", "Signature expired or not yet current");
  const signer = new SignatureV4({
    credentials,
    region: region as string,
    service: service as string,
    sha256: Sha256,
    // Sign exactly the headers the client signed: the JS SDKs sign an x-amz-content-sha256 header,
    // botocore (non-S3) and curl do not, and the signer would otherwise add and sign one.
    applyChecksum: false,
  });
  const signed = await signer.sign(signable(request, signedHeaders), {
    signingDate: date,
    signableHeaders: new Set(signedHeaders),
  });
  const expected = /Signature=([0-9a-f]{64})/.exec(String(signed.headers.authorization))?.[1] ?? "";
  const matches =
    expected.length === 64 && timingSafeEqual(Buffer.from(expected), Buffer.from(signature as string));
  return matches
    ? undefined
    : refuse(
        "InvalidSignatureException",
        "The request signature we calculated does not match the signature you provided.",
      );
}

/**
 * The headers that sign `request` (SigV4, header form) with `credentials` for `service` in `region`,
 * as a client SDK would: for tests and local tools that call an IAM route of the local API.
 */
export async function signSigV4(
  request: { method: string; url: string; headers?: Record<string, string>; body?: string },
  credentials: Credentials,
  scope: { region: string; service: string },
): Promise<Record<string, string>> {
  const url = new URL(request.url);
  const signer = new SignatureV4({
    credentials,
    region: scope.region,
    service: scope.service,
    sha256: Sha256,
  });
  const signed = await signer.sign({
    method: request.method,
    protocol: url.protocol,
    hostname: url.hostname,
    port: url.port ? Number(url.port) : undefined,
    path: url.pathname,
    headers: { ...request.headers, host: url.host },
    body: request.body,
  });
  return signed.headers;
}
