/// <reference path="./.sst/platform/config.d.ts" />
export default $config({
  app(input) {
    return {
      name: "connector-oauth",
      home: "aws",
      removal: input?.stage === "production" ? "retain" : "remove",
      providers: { aws: { version: "7.20.0" } },
    };
  },
  async run() {},
});
