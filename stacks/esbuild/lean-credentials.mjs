/**
 * esbuild plugin for the Lambda bundles: `@aws-sdk/credential-provider-node` (the default credential
 * chain: environment, SSO, INI files, credential_process, web identity, container and instance
 * metadata, with their nested STS/SSO clients, about a fifth of a bare client's bundle) is replaced
 * by env-credentials.mjs, which reads only AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY /
 * AWS_SESSION_TOKEN, where the Lambda runtime puts the execution role's credentials
 * (docs/benchmark.md#lean-credentials says why that is safe and what happens without them).
 *
 * One module for every bundler of the functions, so what the bench measures is what is deployed:
 * SST (stacks/functions.ts passes this file as `nodejs.plugins`), bench/bundle.ts and
 * test/infra/harness.ts. Local mode and the CLI run the sources unbundled and keep the full chain.
 *
 * Plain JavaScript: SST 4.17.1 imports the file with a bare `node`
 * (.sst/platform/functions/nodejs-runtime/plugin.mjs). That bridge only offers onResolve/onLoad and
 * tests each filter against `msg.path`, which it never sets, so against the string "undefined":
 * the filter lets "undefined" through and the callback checks the path itself.
 */
import { fileURLToPath } from "node:url";

export const DEFAULT_CHAIN = "@aws-sdk/credential-provider-node";
/** This file from the repository root, as SST's `nodejs.plugins` takes it (stacks/functions.ts). */
export const PLUGINS_FILE = "stacks/esbuild/lean-credentials.mjs";
export const ENV_CREDENTIALS = fileURLToPath(new URL("./env-credentials.mjs", import.meta.url));
/** Files of the default chain and what only it loads (its nested SSO/STS clients, the metadata
 * providers): none may appear in a lean bundle's metafile. */
export const DEFAULT_CHAIN_FILES =
  /node_modules\/(?:@aws-sdk\/(?:credential-provider-(?!env\/)[\w-]+|nested-clients|token-providers)|@smithy\/credential-provider-imds)\//;

/** @returns {import("esbuild").Plugin} */
export function leanCredentials() {
  return {
    name: "lean-credentials",
    setup(build) {
      build.onResolve({ filter: /^(?:@aws-sdk\/credential-provider-node|undefined)$/ }, (args) =>
        args.path === DEFAULT_CHAIN ? { path: ENV_CREDENTIALS } : undefined,
      );
    },
  };
}

/** What SST's `nodejs.plugins` file must export: the list of plugins. */
export default [leanCredentials()];
