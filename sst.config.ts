/// <reference path="./.sst/platform/config.d.ts" />
/**
 * Connector OAuth service on AWS: `npx sst deploy --stage <name>` (stacks/README.md lists the
 * settings to set first). One module per concern under stacks/; SST forbids top-level imports here,
 * so run() imports them.
 */
export default $config({
  app(input) {
    const production = input.stage === "production";
    return {
      name: "connector-oauth",
      version: "4.17.1",
      home: "aws",
      providers: { aws: { version: "7.20.0" } },
      // Production refuses `sst remove` and keeps its table and keys if removed anyway.
      protect: production,
      removal: production ? "retain" : "remove",
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
    };
  },
});
