// Child process of the first-request benchmark: imports the bundle (file URL in argv[2]), answers
// the events of the JSON file in argv[3] in order, and prints one JSON line: the time from before
// the import to the first response, and per later (warm) event its wall time and the CPU time
// (user + system) this process spent on it, from process.cpuUsage around the call. Nothing else
// runs in this process meanwhile: the services it calls are in the parent.
import { readFileSync } from "node:fs";
import { outcomeOf as outcome } from "./outcome.mjs";

// Lambda's context, as far as the functions read it (the keep-alive's 5-minute timeout).
const context = { getRemainingTimeInMillis: () => 300_000 };
const events = JSON.parse(readFileSync(process.argv[3], "utf8"));
const start = performance.now();
const { handler } = await import(process.argv[2]);
const importMs = performance.now() - start;
const first = await handler(events[0], context);
const firstMs = performance.now() - start;
const warm = [];
const outcomes = [outcome(first)];
for (const event of events.slice(1)) {
  const cpu = process.cpuUsage();
  const at = performance.now();
  const response = await handler(event, context);
  const ms = performance.now() - at;
  const { user, system } = process.cpuUsage(cpu);
  warm.push({ ms, cpuMs: (user + system) / 1000 });
  outcomes.push(outcome(response));
}
process.stdout.write(`\nRESULT ${JSON.stringify({ importMs, firstMs, warm, outcomes })}\n`);
