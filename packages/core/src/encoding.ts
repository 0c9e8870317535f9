/** Byte/text helpers shared by the state and envelope formats. */
/** Bytes backed by a plain ArrayBuffer (what WebCrypto accepts). */
export type Bytes = Uint8Array<ArrayBuffer>;

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

export function utf8(text: string): Bytes {
  return encoder.encode(text);
}

export function fromUtf8(bytes: Bytes): string {
  return decoder.decode(bytes);
}

export function toBase64Url(bytes: Bytes): string {
  return Buffer.from(bytes).toString("base64url");
}

/** Strict base64url decode: only the canonical encoding of some bytes is accepted (no padding,
 * no characters outside the alphabet, no stray bits), so two different strings never decode to the
 * same bytes. */
export function fromBase64Url(text: string): Bytes {
  const bytes = new Uint8Array(Buffer.from(text, "base64url"));
  if (!/^[A-Za-z0-9_-]*$/.test(text) || toBase64Url(bytes) !== text)
    throw new TypeError("not canonical base64url");
  return bytes;
}

export function toBase64(bytes: Bytes): string {
  return Buffer.from(bytes).toString("base64");
}

export function fromBase64(text: string): Bytes {
  return new Uint8Array(Buffer.from(text, "base64"));
}
