// Plain JavaScript: also imported by bench/invoke.mjs, which runs in a bare `node`.
/**
 * What a bundled handler answered, printable without leaking anything: the status ("done" for the
 * keep-alive job's summary) and " error" for a redirect that reports an error, or a job run with
 * failures. The location itself is never printed (a redirect to the provider carries the state).
 * @param {unknown} result
 * @returns {string}
 */
export function outcomeOf(result) {
  const { statusCode, headers, failed } = /** @type {any} */ (result ?? {});
  const location = String(headers?.location ?? "");
  const error = /[?&#](?:oauth_)?error=/.test(location) || (failed ?? 0) > 0;
  return `${statusCode ?? "done"}${error ? " error" : ""}`;
}
