#!/usr/bin/env node
// The `connector-oauth` operator CLI: runs the TypeScript source through tsx's loader (no build step).
import { register } from "tsx/esm/api";

register();
const { main } = await import("../src/cli.ts");
process.exitCode = await main();
