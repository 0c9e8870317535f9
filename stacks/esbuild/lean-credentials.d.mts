import type { Plugin } from "esbuild";

export declare const DEFAULT_CHAIN: "@aws-sdk/credential-provider-node";
export declare const PLUGINS_FILE: "stacks/esbuild/lean-credentials.mjs";
/** Absolute path of the stand-in module (env-credentials.mjs). */
export declare const ENV_CREDENTIALS: string;
export declare const DEFAULT_CHAIN_FILES: RegExp;
export declare function leanCredentials(): Plugin;
declare const plugins: Plugin[];
export default plugins;
