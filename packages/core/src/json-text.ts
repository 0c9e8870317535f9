/**
 * Parsing operator-supplied JSON (connector definition files, which hold client secrets) without
 * echoing it: `JSON.parse` messages quote a fragment of the input ("Unexpected token ... "secret-"
 * is not valid JSON"), so a syntax error is reported by line and column only. The position comes
 * from a small validating scanner of the JSON grammar (RFC 8259), not from the engine's message,
 * whose wording differs between Node versions.
 */
import { fail } from "./errors.ts";

/** Offset of the first syntax error in `text` (RFC 8259), or -1 when it is valid JSON. */
export function jsonErrorOffset(text: string): number {
  let i = 0;
  const ws = () => {
    while (i < text.length && " \t\n\r".includes(text[i] as string)) i++;
  };
  const literal = (word: string) => {
    if (text.startsWith(word, i)) i += word.length;
    else throw i;
  };
  const string = () => {
    i++; // opening quote
    while (i < text.length && text[i] !== '"') {
      const c = text.charCodeAt(i);
      if (c < 0x20) throw i;
      if (text[i] === "\\") {
        const escaped = text[i + 1] ?? "";
        if (escaped === "u" && /^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) i += 6;
        else if ('"\\/bfnrt'.includes(escaped) && escaped) i += 2;
        else throw i;
      } else i++;
    }
    if (i >= text.length) throw i;
    i++;
  };
  const number = () => {
    const match = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/.exec(text.slice(i));
    if (!match) throw i;
    i += match[0].length;
  };
  const value = () => {
    ws();
    const c = text[i];
    if (c === "{") members("}", true);
    else if (c === "[") members("]", false);
    else if (c === '"') string();
    else if (c === "t") literal("true");
    else if (c === "f") literal("false");
    else if (c === "n") literal("null");
    else number();
  };
  const members = (close: string, object: boolean) => {
    i++;
    ws();
    if (text[i] === close) {
      i++;
      return;
    }
    for (;;) {
      if (object) {
        ws();
        if (text[i] !== '"') throw i;
        string();
        ws();
        if (text[i] !== ":") throw i;
        i++;
      }
      value();
      ws();
      if (text[i] === ",") {
        i++;
        continue;
      }
      if (text[i] === close) {
        i++;
        return;
      }
      throw i;
    }
  };
  try {
    value();
    ws();
    return i < text.length ? i : -1;
  } catch (offset) {
    return typeof offset === "number" ? offset : 0;
  }
}

/** 1-based line and column of an offset. */
export function lineColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset).split(/\r\n|\r|\n/);
  return { line: before.length, column: (before.at(-1)?.length ?? 0) + 1 };
}

/** JSON.parse that reports a syntax error as invalid_request with its line and column only. */
export function parseJsonText(text: string, what = "The input"): unknown {
  try {
    return JSON.parse(text);
  } catch {
    const offset = jsonErrorOffset(text);
    const { line, column } = lineColumn(text, offset < 0 ? text.length : offset);
    throw fail(
      "invalid_request",
      `${what} is not valid JSON: syntax error at line ${line}, column ${column}`,
    );
  }
}
