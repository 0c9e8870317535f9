/**
 * Keeps the test run readable: what a test process writes straight to stdout/stderr (the
 * handlers' JSON log lines, which Powertools writes through its own Console, and third-party
 * warnings) is held per test and printed only when that test fails. Console calls are handled by
 * vitest itself (`silent: "passed-only"`). Tests that capture output (functions/test/support)
 * wrap the streams after this and still see every line.
 */
import { beforeEach } from "vitest";

type Write = (chunk: string | Uint8Array, ...rest: unknown[]) => boolean;
const streams = [process.stdout, process.stderr];
const writes = streams.map((stream) => stream.write.bind(stream) as Write);
let held: [number, string | Uint8Array][] = [];

streams.forEach((stream, index) => {
  stream.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    held.push([index, chunk]);
    const done = rest.find((arg) => typeof arg === "function") as (() => void) | undefined;
    done?.();
    return true;
  }) as typeof stream.write;
});

beforeEach(({ onTestFailed }) => {
  held = [];
  onTestFailed(() => {
    for (const [index, chunk] of held) writes[index]?.(chunk);
    held = [];
  });
});
