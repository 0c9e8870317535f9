/**
 * Stands in for `@aws-sdk/credential-provider-node` in the Lambda bundles (lean-credentials.mjs):
 * the same `defaultProvider(init)` export the clients' runtime config calls, answered by the
 * environment provider alone. The Lambda runtime sets AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and
 * AWS_SESSION_TOKEN from the execution role (Lambda Developer Guide, "Defined runtime environment
 * variables"), which the default chain would also have read first. Without them, every AWS call
 * fails with the error below instead of trying files and metadata endpoints a function has not.
 */
import { fromEnv } from "@aws-sdk/credential-provider-env";
import { doesIdentityRequireRefresh, isIdentityExpired, memoizeIdentityProvider } from "@smithy/core";

export const MISSING =
  "No AWS credentials in the environment (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY): this " +
  "bundle reads credentials from environment variables only, as the Lambda runtime provides them " +
  "(stacks/esbuild/lean-credentials.mjs)";

/**
 * Read once and kept, as the SDK keeps credentials given to a client (and as the default chain
 * memoizes its own result): refreshed only if AWS_CREDENTIAL_EXPIRATION says they expire. A failure
 * is not kept, so a later call reads the environment again.
 * @param {Parameters<typeof fromEnv>[0]} [init]
 */
export function defaultProvider(init) {
  const fromEnvironment = fromEnv(init);
  const read = async () => {
    try {
      return await fromEnvironment();
    } catch (cause) {
      throw Object.assign(new Error(MISSING, { cause }), { name: "CredentialsProviderError" });
    }
  };
  return memoizeIdentityProvider(read, isIdentityExpired, doesIdentityRequireRefresh);
}
