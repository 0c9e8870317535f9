import { describe, expect, it } from "vitest";
import { loadSettings } from "../src/index.ts";

const valid = {
  TABLE_NAME: "t",
  STATE_KEY_ID: "alias/state",
  DATA_KEY_ID: "alias/data",
  APP_ORIGINS: "https://app.example.com, http://localhost:3000",
  PUBLIC_API_URL: "https://api.example.com/",
  AUTH_HS256_SECRET: "0123456789abcdef0123",
};

describe("settings", () => {
  it("derives the callback URL and defaults the app paths when the settings are valid", () => {
    const settings = loadSettings(valid);
    expect(settings.connect?.redirectUri).toBe("https://api.example.com/connectors/oauth/callback");
    expect(settings.connect?.appOrigins).toEqual(["https://app.example.com", "http://localhost:3000"]);
    expect(settings.connect?.successPath).toBe("/account/company-settings/settings/connector/{connectorId}");
    expect(settings.allowLoopbackHttp).toBe(false);
    expect(settings.auth?.maxTokenAgeSeconds).toBe(24 * 3600);
    expect(loadSettings({ ...valid, AUTH_MAX_TOKEN_AGE: "90m" }).auth?.maxTokenAgeSeconds).toBe(5400);
  });

  it("defaults the deadlines and the pending-flow limit, and reads them when set", () => {
    const settings = loadSettings(valid);
    expect(settings.timeouts).toEqual({
      awsAttemptMs: 2_000,
      awsMaxAttempts: 2,
      exchangeMs: 8_000,
      budgetMs: 13_000,
    });
    expect(settings.connect?.maxPendingFlows).toBe(20);
    const set = loadSettings({
      ...valid,
      MAX_PENDING_FLOWS: "5",
      AWS_ATTEMPT_TIMEOUT_MS: "400",
      AWS_MAX_ATTEMPTS: "3",
    });
    expect(set.connect?.maxPendingFlows).toBe(5);
    expect(set.timeouts).toMatchObject({ awsAttemptMs: 400, awsMaxAttempts: 3 });
  });

  it("requires only what a function is linked to", () => {
    const { AUTH_HS256_SECRET: _auth, ...callbackEnv } = valid;
    expect(loadSettings(callbackEnv, ["stateKey", "dataKey", "connect"]).auth).toBeUndefined();
    const legacyEnv = { TABLE_NAME: "t", DATA_KEY_ID: "k", AUTH_HS256_SECRET: valid.AUTH_HS256_SECRET };
    const legacy = loadSettings(legacyEnv, ["dataKey", "auth"]);
    expect(legacy.connect).toBeUndefined();
    expect(legacy.stateKeyId).toBeUndefined();
    expect(() => loadSettings(legacyEnv, ["stateKey"])).toThrow(/STATE_KEY_ID is required/);
  });

  it("accepts stand-in overrides in loopback mode", () => {
    const overrides = '{"github":{"tokenUrl":"http://127.0.0.1:9/token","issuer":"http://127.0.0.1:9"}}';
    const settings = loadSettings({ ...valid, ALLOW_LOOPBACK_HTTP: "true", PROVIDER_OVERRIDES: overrides });
    expect(settings.providerOverrides).toEqual(JSON.parse(overrides));
    expect(loadSettings({ ...valid, PROVIDER_OVERRIDES: "{}" }).providerOverrides).toBeUndefined();
  });

  it.each([
    [{ TABLE_NAME: "" }, /TABLE_NAME is required/],
    [{ APP_ORIGINS: "https://app.example.com/path" }, /APP_ORIGINS/],
    [{ APP_ORIGINS: "http://app.example.com" }, /APP_ORIGINS must use https/],
    [{ PUBLIC_API_URL: "ftp://x" }, /PUBLIC_API_URL/],
    [{ PUBLIC_API_URL: "https://api.example.com/?a=b" }, /PUBLIC_API_URL/],
    [{ SUCCESS_PATH: "//evil.example/x" }, /SUCCESS_PATH/],
    [{ ERROR_PATH: "relative" }, /ERROR_PATH/],
    [{ AUTH_HS256_SECRET: "" }, /exactly one must be set/],
    [{ AUTH_JWKS_URL: "https://idp.example.com/jwks" }, /exactly one must be set/],
    [{ AUTH_HS256_SECRET: "short" }, /at least 16/],
    [{ ALLOW_LOOPBACK_HTTP: "yes" }, /ALLOW_LOOPBACK_HTTP/],
    [{ AUTH_MAX_TOKEN_AGE: "forever" }, /AUTH_MAX_TOKEN_AGE/],
    [{ AUTH_MAX_TOKEN_AGE: "0" }, /AUTH_MAX_TOKEN_AGE/],
    [{ PROVIDER_OVERRIDES: "[1]" }, /PROVIDER_OVERRIDES/],
    // Overrides re-point where tokens go: stand-ins only, and every field checked at cold start.
    [
      { PROVIDER_OVERRIDES: '{"github":{"tokenUrl":"https://stand-in.example.com/token"}}' },
      /PROVIDER_OVERRIDES is for stand-ins only: it needs ALLOW_LOOPBACK_HTTP=true/,
    ],
    [
      { ALLOW_LOOPBACK_HTTP: "true", PROVIDER_OVERRIDES: '{"github":{"issuer":42}}' },
      /PROVIDER_OVERRIDES "github.issuer" must be a non-empty string/,
    ],
    [
      { ALLOW_LOOPBACK_HTTP: "true", PROVIDER_OVERRIDES: '{"github":{"tokenUrl":"ftp://x"}}' },
      /PROVIDER_OVERRIDES "github.tokenUrl" must be an https URL/,
    ],
    [
      {
        ALLOW_LOOPBACK_HTTP: "true",
        PROVIDER_OVERRIDES: '{"github":{"tokenUrl":"https://169.254.169.254/t"}}',
      },
      /PROVIDER_OVERRIDES "github.tokenUrl"/,
    ],
    [
      { ALLOW_LOOPBACK_HTTP: "true", PROVIDER_OVERRIDES: '{"github":{"clientSecret":"x"}}' },
      /PROVIDER_OVERRIDES "github" has an unknown field "clientSecret"/,
    ],
    [
      { ALLOW_LOOPBACK_HTTP: "true", PROVIDER_OVERRIDES: '{"myspace":{"tokenUrl":"http://127.0.0.1:9/t"}}' },
      /PROVIDER_OVERRIDES names an unknown provider "myspace"/,
    ],
    [{ MAX_PENDING_FLOWS: "0" }, /MAX_PENDING_FLOWS must be a whole number/],
    [{ AWS_ATTEMPT_TIMEOUT_MS: "2s" }, /AWS_ATTEMPT_TIMEOUT_MS/],
    [{ TOKEN_EXCHANGE_TIMEOUT_MS: "1.5" }, /TOKEN_EXCHANGE_TIMEOUT_MS/],
  ])("fails fast naming the setting when given %j", (change, message) => {
    expect(() => loadSettings({ ...valid, ...change })).toThrow(message);
  });
});
