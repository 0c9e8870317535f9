/**
 * End to end in a real browser: headless Chromium (Debian `chromium`, driven by playwright-core)
 * opens local mode's demo page, clicks Connect, signs in and consents at the demo provider, and
 * lands on the success page; the stored tokens are then read back through the CLI and the adapters.
 * Skipped, with the reason printed, where Chromium is not installed.
 */
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ScanCommand } from "@aws-sdk/client-dynamodb";
import { dynamoConnectorStore, kmsDataKeys } from "@connector-oauth/aws";
import { runCli } from "@connector-oauth/cli";
import { openTokenSet } from "@connector-oauth/core";
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadLocalConfig } from "../src/config.ts";
import { DEMO_CONNECTOR, DEMO_ORG, type LocalMode, startLocalMode } from "../src/start.ts";

/** The screenshots in docs/ are the ones this test takes: written there with UPDATE_SCREENSHOTS=1
 * (so that an ordinary run leaves the tree clean), else into the test's temporary folder. */
const shotPath = (name: string, dataDir: string) =>
  join(process.env.UPDATE_SCREENSHOTS === "1" ? join(import.meta.dirname, "../../../docs") : dataDir, name);
const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) console.log(`browser test skipped: no Chromium at ${CHROMIUM} (apt-get install chromium)`);

const CHROMIUM_ARGS = [
  ...["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run"],
  ...["--disable-background-networking", "--disable-component-update", "--disable-sync"],
  // The provider's dev pages import Google Fonts: keep the browser on loopback.
  "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1 , EXCLUDE localhost",
];

describe.skipIf(!hasChromium)("demo page in a browser", () => {
  let dataDir: string;
  let local: LocalMode;
  let browser: Browser;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), "connector-oauth-browser-"));
    local = await startLocalMode(await loadLocalConfig({ PORT: "0", DATA_DIR: dataDir }));
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  });

  afterAll(async () => {
    await browser?.close();
    await local?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  async function startConnecting(page: Page) {
    await page.goto(`${local.publicApiUrl}/`);
    await page.locator(`button[data-connector="${DEMO_CONNECTOR}"]`).click();
    await page.waitForURL(`${local.providerUrl}/**`);
  }

  async function signIn(page: Page) {
    await page.locator('input[name="login"]').fill("alice");
    await page.locator('input[name="password"]').fill("any password");
    await page.getByRole("button", { name: "Sign-in" }).click();
    await page.getByRole("button", { name: "Continue" }).click();
  }

  it("lands on the error page when the user cancels at the provider", async () => {
    const page = await browser.newPage();
    await startConnecting(page);
    await page.getByText("[ Cancel ]").click();
    await page.waitForURL(/\/demo\/error\?/);
    const url = new URL(page.url());
    expect(url.origin).toBe(local.publicApiUrl);
    expect(url.searchParams.get("oauth_error")).toBe("access_denied");
    await expect
      .poll(() => page.locator("#banner-title").textContent())
      .toBe("Sign-in cancelled · Demo provider");
    expect(await page.locator("#banner-retry").isVisible()).toBe(true);
    expect(await page.locator(".pill").first().textContent()).toBe("not connected");
    await page.close();
  });

  it("connects the demo connector and stores its tokens encrypted", async () => {
    const page = await browser.newPage();
    await startConnecting(page);
    await signIn(page);
    await page.waitForURL(`${local.publicApiUrl}/demo/connected/${DEMO_CONNECTOR}`);
    await expect.poll(() => page.locator("#banner-title").textContent()).toBe("Connected to Demo provider");
    await expect.poll(() => page.locator(".pill.authenticated").count()).toBe(1);
    // Who consented, as the demo page shows it (read from the provider's UserInfo endpoint).
    await expect.poll(() => page.getByText("as alice@example.com").count()).toBe(1);
    const details = await page.locator("#banner-details").textContent();
    expect(details).toMatch(/Granted scopesopenid\b/);
    expect(details).toContain(`npx connector-oauth access-token ${DEMO_CONNECTOR} --org ${DEMO_ORG} --local`);
    expect(details).toContain(`DATA_DIR=${dataDir}`);
    await page.screenshot({ path: shotPath("demo-page.png", dataDir), fullPage: true });
    await page.close();

    expect(local.provider.requests.filter((r) => r.grantType === "authorization_code")).toMatchObject([
      { status: 200 },
    ]);

    const out: string[] = [];
    const io = {
      env: local.cliEnv,
      cwd: dataDir,
      out: (line: string) => out.push(line),
      err: (line: string) => out.push(line),
    };
    expect(await runCli(["list", "--org", DEMO_ORG, "--json"], io)).toBe(0);
    expect(JSON.parse(out.join("\n"))).toMatchObject([
      {
        _id: DEMO_CONNECTOR,
        isAuthenticated: true,
        status: "authenticated",
        connectedAccount: { id: "alice", email: "alice@example.com", emailVerified: true, name: "alice" },
      },
    ]);

    const { services } = local;
    const record = await dynamoConnectorStore(services.dynamo, services.tableName).get(
      DEMO_ORG,
      DEMO_CONNECTOR,
    );
    expect(record?.tokens?.refresh).toBeDefined();
    const secrets = await openTokenSet(
      kmsDataKeys(services.kms, services.dataKeyId),
      record as NonNullable<typeof record>,
    );
    expect(secrets.accessToken.length).toBeGreaterThan(20);
    expect(secrets.refreshToken?.length).toBeGreaterThan(20);
    const items = JSON.stringify(
      (await services.dynamo.send(new ScanCommand({ TableName: services.tableName }))).Items,
    );
    expect(items).not.toContain(secrets.accessToken);
    expect(items).not.toContain(secrets.refreshToken);
  });

  it("says a cancelled reconnect leaves the connector connected", async () => {
    const page = await browser.newPage();
    await startConnecting(page);
    await page.getByText("[ Cancel ]").click();
    await page.waitForURL(/\/demo\/error\?/);
    await expect
      .poll(() => page.locator("#banner-text").textContent())
      .toContain("Demo provider is still connected with its earlier sign-in.");
    expect(await page.locator(".pill").first().textContent()).toBe("authenticated");
    await page.close();
  });

  it("shows state_expired in words with a Try again button that starts a new sign-in", async () => {
    const page = await browser.newPage();
    // Where the callback sends a sign-in that outlived its state (functions' callback tests).
    await page.goto(
      `${local.publicApiUrl}/demo/error?oauth_error=state_expired&connectorId=${DEMO_CONNECTOR}`,
    );
    expect(new URL(page.url()).searchParams.get("oauth_error")).toBe("state_expired");
    await expect
      .poll(() => page.locator("#banner-title").textContent())
      .toBe("The sign-in took too long · Demo provider");
    await page.locator("#banner-retry").click();
    await page.waitForURL(`${local.providerUrl}/**`);
    await page.close();
  });

  it("fits a 390 px wide screen", async () => {
    const page = await browser.newPage({ viewport: { width: 390, height: 844 } });
    await page.goto(`${local.publicApiUrl}/demo/connected/${DEMO_CONNECTOR}`);
    await expect.poll(() => page.locator("#banner-title").textContent()).toBe("Connected to Demo provider");
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await page.screenshot({ path: shotPath("demo-page-390.png", dataDir), fullPage: true });
    await page.close();
  });
});
