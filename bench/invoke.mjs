// Child process of the first-request benchmark (forked, with an IPC channel): imports the bundle
// (file URL in argv[2]) and answers argv[3] events. It asks the parent for them in batches of up to
// BATCH (argv[4]) and answers each batch back to back, so V8's background work (compiling, marking)
// runs on into the next request as it does under load, not into an idle gap; batches keep a long
// run's states and codes fresh (a provider's codes expire within a minute). Then it sends the
// parent one message: the time from before the import to the first response, and per later (warm)
// event its wall time, the CPU time (user + system) this process spent on it (process.cpuUsage
// around the call) and the HTTP round trips it made: node:http client requests (the AWS SDK's
// handler) and fetch requests (undici: oauth4webapi's calls to the provider), counted on Node's
// diagnostics channels (https://nodejs.org/api/diagnostics_channel.html#http,
// "http.client.request.start", and undici's "undici:request:create"), which observe without
// patching anything. Nothing else runs in this process meanwhile: the services it calls are in the
// parent, which also prepares the events.
import { subscribe } from "node:diagnostics_channel";
import { outcomeOf as outcome } from "./outcome.mjs";

// Lambda's context, as far as the functions read it (the keep-alive's 5-minute timeout).
const context = { getRemainingTimeInMillis: () => 300_000 };
const calls = { http: 0, fetch: 0 };
subscribe("http.client.request.start", () => calls.http++);
subscribe("undici:request:create", () => calls.fetch++);
const count = Number(process.argv[3]);
const batch = Number(process.argv[4]);
/** The next `n` events, from the parent. */
const events = (n) =>
  new Promise((resolve) => {
    process.once("message", resolve);
    process.send({ events: n });
  });
let pending = await events(Math.min(batch, count));
const start = performance.now();
const { handler } = await import(process.argv[2]);
const importMs = performance.now() - start;
const first = await handler(pending.shift(), context);
const firstMs = performance.now() - start;
const warm = [];
const outcomes = [outcome(first)];
for (let i = 1; i < count; i++) {
  if (pending.length === 0) pending = await events(Math.min(batch, count - i));
  const event = pending.shift();
  calls.http = 0;
  calls.fetch = 0;
  const cpu = process.cpuUsage();
  const at = performance.now();
  const response = await handler(event, context);
  const ms = performance.now() - at;
  const { user, system } = process.cpuUsage(cpu);
  warm.push({ ms, cpuMs: (user + system) / 1000, http: calls.http, fetch: calls.fetch });
  outcomes.push(outcome(response));
}
process.send({ result: { importMs, firstMs, warm, outcomes } }, () => process.disconnect());
