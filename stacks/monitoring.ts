/**
 * Day-one alarms. All of them notify one SNS topic (output `alarmTopic`; subscribe an e-mail or a
 * chat integration to it, see stacks/README.md). Each fires on a 5-minute sum:
 * - API 5xx >= 5: the handlers answer 5xx only when they or a dependency (KMS, DynamoDB) fail.
 * - API throttled >= 10: requests refused by the route throttling (status 429 in the access log;
 *   HTTP APIs publish no throttle metric of their own).
 * - per function (the three route handlers and KeepAlive), Errors >= 1 (crashes and timeouts the
 *   handler did not turn into a response; for KeepAlive, a run that failed as a whole, since it
 *   counts per-connector failures instead of throwing) and Throttles >= 1 (no concurrency left).
 * - table read/write throttle events >= 1.
 */
import type { Api } from "./api.ts";
import type { Lifecycle } from "./lifecycle.ts";
import type { Storage } from "./storage.ts";

const PERIOD_SECONDS = 300;

export function createAlarms({
  api,
  lifecycle,
  storage,
}: {
  api: Api;
  lifecycle: Lifecycle;
  storage: Storage;
}) {
  const prefix = `${$app.name}-${$app.stage}`;
  const topic = new aws.sns.Topic("AlarmTopic");
  const common = {
    comparisonOperator: "GreaterThanOrEqualToThreshold",
    evaluationPeriods: 1,
    treatMissingData: "notBreaching",
    alarmActions: [topic.arn],
    okActions: [topic.arn],
  };
  const alarm = (name: string, description: string, args: Partial<aws.cloudwatch.MetricAlarmArgs>) =>
    new aws.cloudwatch.MetricAlarm(`${name}Alarm`, {
      ...common,
      name: `${prefix}-${name}`,
      alarmDescription: description,
      period: PERIOD_SECONDS,
      statistic: "Sum",
      ...args,
    });

  const stage = { ApiId: api.api.nodes.api.id, Stage: "$default" };
  alarm("Api5xx", "The API answered 5xx", {
    namespace: "AWS/ApiGateway",
    metricName: "5xx",
    dimensions: stage,
    threshold: 5,
  });

  const namespace = `${$app.name}/${$app.stage}`;
  new aws.cloudwatch.LogMetricFilter("ApiThrottledFilter", {
    logGroupName: api.api.nodes.logGroup.name,
    pattern: "{ $.status = 429 }",
    metricTransformation: { name: "ApiThrottled", namespace, value: "1", unit: "Count" },
  });
  alarm("ApiThrottled", "The API refused requests over the route throttling limits (429)", {
    namespace,
    metricName: "ApiThrottled",
    threshold: 10,
  });

  const functions = [...api.functions, { name: "KeepAlive", fn: lifecycle.keepAlive }];
  for (const { name, fn } of functions) {
    const dimensions = { FunctionName: fn.name };
    alarm(`${name}Errors`, `${name} failed (crash or timeout)`, {
      namespace: "AWS/Lambda",
      metricName: "Errors",
      dimensions,
      threshold: 1,
    });
    alarm(`${name}Throttles`, `${name} was throttled (concurrency)`, {
      namespace: "AWS/Lambda",
      metricName: "Throttles",
      dimensions,
      threshold: 1,
    });
  }

  const tableMetric = (metricName: string) => ({
    namespace: "AWS/DynamoDB",
    metricName,
    dimensions: { TableName: storage.table.name },
    period: PERIOD_SECONDS,
    stat: "Sum",
  });
  new aws.cloudwatch.MetricAlarm("TableThrottlesAlarm", {
    ...common,
    name: `${prefix}-TableThrottles`,
    alarmDescription: "The table throttled reads or writes",
    threshold: 1,
    metricQueries: [
      {
        id: "throttles",
        expression: "FILL(reads, 0) + FILL(writes, 0)",
        label: "Throttle events",
        returnData: true,
      },
      { id: "reads", metric: tableMetric("ReadThrottleEvents") },
      { id: "writes", metric: tableMetric("WriteThrottleEvents") },
    ],
  });

  return { topic };
}
