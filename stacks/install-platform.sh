#!/usr/bin/env bash
# Unpacks SST's platform (components, Pulumi SDK, @pulumi/aws) into .sst/platform and writes
# .sst/platform/config.d.ts. Needed by `tsc -p stacks/tsconfig.json` and test/infra. Offline except
# for the npm registry; ~1 min and ~300 MB the first time; a no-op when the platform is current.
set -euo pipefail
cd "$(dirname "$0")/.."

want="$(node -p 'require("./node_modules/sst/package.json").version')"
if [[ -f .sst/platform/config.d.ts && -d .sst/platform/node_modules/@pulumi/aws \
  && "$(cat .sst/platform/version 2>/dev/null)" == "$want" ]]; then
  exit 0
fi

# Without these the CLI tries to download Pulumi/Bun from GitHub and to send telemetry.
SST_SKIP_DEPENDENCY_CHECK=1 SST_NO_BUN=1 SST_TELEMETRY_DISABLED=1 \
  node_modules/.bin/sst install --stage ci
