/**
 * The peer of the cold-start bench: Grant's AWS Lambda handler (grant 5.4.24, its README's
 * "Serverless Functions / AWS Lambda" example), one OAuth 2.0 provider with state, nonce and PKCE on,
 * the session in a signed cookie. It stores and encrypts nothing. Configured from the environment
 * at import, as our functions are; bench/functions.ts points it at the demo provider.
 */
import grant from "grant";

const env = (name: string, fallback: string) => process.env[name] ?? fallback;

const app = grant.aws({
  config: {
    defaults: { origin: env("PUBLIC_API_URL", "https://api.example.com"), transport: "session" },
    demo: {
      authorize_url: env("GRANT_AUTHORIZE_URL", "https://provider.example.com/auth"),
      access_url: env("GRANT_ACCESS_URL", "https://provider.example.com/token"),
      oauth: 2,
      key: "grant-client",
      secret: env("GRANT_CLIENT_SECRET", "grant-client-secret"),
      scope: ["openid", "email"],
      state: true,
      nonce: true,
      pkce: true,
      callback: "/done",
    },
  },
  session: { secret: env("GRANT_SESSION_SECRET", "bench-grant-session-secret") },
});

export async function handler(event: Parameters<typeof app>[0]) {
  const { redirect, response } = await app(event);
  return (
    redirect ?? {
      statusCode: 200,
      headers: { "content-type": "application/json" },
      body: JSON.stringify(response),
    }
  );
}
