/// <reference path="./.sst/platform/config.d.ts" />
/**
 * Connector OAuth service on AWS: `npx sst deploy --stage <name>` (stacks/README.md lists the
 * settings to set first). One module per concern under stacks/; SST forbids top-level imports here,
 * so run() imports them.
 */
export default $config({
  app(input) {
    // Stage names: short (they go into function names, at most 64 characters) and DNS-like.
    if (!/^[a-z][a-z0-9-]{0,29}$/.test(input.stage)) {
      throw new Error(
        `Stage "${input.stage}": use 1-30 lowercase letters, digits and "-", starting with a letter`,
      );
    }
    // Protected unless explicitly a development stage (dev, ci, test, dev-<name>): such a stage
    // refuses `sst remove`, its table has deletion protection, and its table and keys are kept if
    // it is removed anyway. A stage named in a guide (prod, production, staging, ...) is protected
    // whatever the guide calls it.
    const development = /^(dev|ci|test)$|^dev-/.test(input.stage);
    return {
      name: "connector-oauth",
      version: "4.17.1",
      home: "aws",
      providers: { aws: { version: "7.20.0" } },
      protect: !development,
      removal: development ? "remove" : "retain",
    };
  },
  async run() {
    const { enforceFunctionRoles } = await import("./stacks/functions.ts");
    const { createSettings } = await import("./stacks/settings.ts");
    const { createStorage } = await import("./stacks/storage.ts");
    const { createKeys } = await import("./stacks/keys.ts");
    const { createLifecycle } = await import("./stacks/lifecycle.ts");
    const { createApi } = await import("./stacks/api.ts");
    const { createAlarms } = await import("./stacks/monitoring.ts");

    // First: it shapes every function created below (names, trust policies, no managed policies).
    enforceFunctionRoles();
    const settings = createSettings();
    const storage = createStorage();
    const keys = createKeys();
    // Before the API: the data key's policy, written with the API's functions, names its roles too.
    const lifecycle = createLifecycle({ storage, keys, consumerPrincipals: settings.consumerPrincipals });
    const api = createApi({ settings, storage, keys, extraKeyUses: { dataKey: lifecycle.dataKeyUses } });
    const alarms = createAlarms({ api, lifecycle, storage });

    // The URL may come from a stage secret; it is not secret itself, so show it.
    const apiUrl = $util.unsecret(api.publicApi.properties.url);
    return {
      apiUrl,
      callbackUrl: $interpolate`${apiUrl}/connectors/oauth/callback`,
      tableName: storage.table.name,
      stateKeyArn: keys.stateKey.key.arn,
      dataKeyArn: keys.dataKey.key.arn,
      alarmTopic: alarms.topic.arn,
      tokenConsumerRoleArn: lifecycle.consumerRole.arn,
      tokenConsumerPolicyArn: lifecycle.consumerPolicy.arn,
      // Attach to a sync worker's role to call the token API over HTTP (docs/deploy.md).
      tokenApiPolicyArn: api.tokenApiPolicy.arn,
    };
  },
});
