import * as oauth from "oauth4webapi";
import { describe, expect, it } from "vitest";
import { fromBase64Url } from "../src/encoding.ts";
import { openVerifier, sealVerifier } from "../src/flows.ts";
import { createPkce } from "../src/oauth.ts";

describe("pkce", () => {
  it("matches the RFC 7636 Appendix B test vector", async () => {
    // The verifier's 32 octets as listed in the RFC.
    const octets = [
      116, 24, 223, 180, 151, 153, 224, 37, 79, 250, 96, 125, 216, 173, 187, 186, 22, 212, 37, 77, 105, 214,
      191, 240, 91, 88, 5, 88, 83, 132, 141, 121,
    ];
    const verifier = Buffer.from(octets).toString("base64url");
    expect(verifier).toBe("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk");
    const challenge = await oauth.calculatePKCECodeChallenge(verifier);
    expect(challenge).toBe("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
  });

  it("makes 43-character verifiers from 32 random bytes and unpadded S256 challenges", async () => {
    const seen = new Set<string>();
    for (let i = 0; i < 50; i++) {
      const { verifier, challenge } = await createPkce();
      expect(verifier).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(fromBase64Url(verifier).length).toBe(32);
      expect(challenge).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(challenge).toBe(await oauth.calculatePKCECodeChallenge(verifier));
      seen.add(verifier);
    }
    expect(seen.size).toBe(50);
  });

  it("makes nonces of at least 128 random bits", () => {
    const nonce = oauth.generateRandomState();
    expect(fromBase64Url(nonce).length).toBeGreaterThanOrEqual(16);
    expect(oauth.generateRandomState()).not.toBe(nonce);
  });
});

describe("flows", () => {
  it("opens a sealed verifier only with the same state MAC and nonce", async () => {
    const mac = crypto.getRandomValues(new Uint8Array(32));
    const sealed = await sealVerifier(mac, "nonce-1", "the-verifier");
    expect(sealed).not.toContain("the-verifier");
    expect(await openVerifier(mac, "nonce-1", sealed)).toBe("the-verifier");
    await expect(openVerifier(mac, "nonce-2", sealed)).rejects.toThrow();
    await expect(
      openVerifier(crypto.getRandomValues(new Uint8Array(32)), "nonce-1", sealed),
    ).rejects.toThrow();
  });
});
