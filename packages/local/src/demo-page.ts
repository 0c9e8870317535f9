/**
 * The demo page of local mode, served by the local API's fallback (not a Lambda): it walks through
 * connect in a browser and doubles as the app's success and error page. Routes:
 *   GET /                          the page
 *   GET /demo/connected/{id}       the page, showing the success the callback redirected to
 *   GET /demo/error                the page, showing `oauth_error` from the callback's redirect
 *   GET /demo/api/connectors       the caller's connectors and their status (bearer JWT)
 * Self-contained: inline style and script under a nonce-based CSP, nothing from third parties.
 */
import { randomBytes } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { type Caller, type ConnectorStore, isServiceError, publicConnector } from "@connector-oauth/core";

export interface DemoPageOptions {
  connectors: ConnectorStore;
  verifyCaller: (authorization: string | undefined) => Promise<Caller>;
  /** Shown on the page and used by its script (local development only). */
  devToken: string;
  /** Passed as `baseUrl` to authorize, so the callback returns to this page. */
  appOrigin: string;
  /** Label -> URL, listed on the page. */
  endpoints: Record<string, string>;
  /** The CLI command that prints a connector's access token, with `{id}` for the connector. */
  accessTokenCommand: string;
}

const HEADERS = {
  "cache-control": "no-store",
  "referrer-policy": "no-referrer",
  "x-content-type-options": "nosniff",
};

function sendJson(response: ServerResponse, status: number, body: unknown) {
  response.writeHead(status, { ...HEADERS, "content-type": "application/json; charset=utf-8" });
  response.end(JSON.stringify(body));
}

async function listConnectors(options: DemoPageOptions, request: IncomingMessage, response: ServerResponse) {
  try {
    const caller = await options.verifyCaller(request.headers.authorization);
    const connectors = await options.connectors.list(caller.orgId);
    sendJson(response, 200, { success: true, caller, connectors: connectors.map(publicConnector) });
  } catch (error) {
    const known = isServiceError(error) && ["unauthorized", "forbidden"].includes(error.code);
    const code = known ? error.code : "internal_error";
    const message = known ? error.message : "Could not list connectors";
    sendJson(response, code === "unauthorized" ? 401 : code === "forbidden" ? 403 : 500, {
      success: false,
      error: { code, message },
    });
  }
}

/** JSON for an inline <script type="application/json">: `<` escaped so it cannot close the tag. */
const inlineJson = (value: unknown) => JSON.stringify(value).replaceAll("<", "\\u003c");

function sendPage(options: DemoPageOptions, response: ServerResponse) {
  const nonce = randomBytes(16).toString("base64");
  const { devToken, appOrigin, endpoints, accessTokenCommand } = options;
  const config = { devToken, appOrigin, endpoints, accessTokenCommand };
  response.writeHead(200, {
    ...HEADERS,
    "content-type": "text/html; charset=utf-8",
    "content-security-policy": `default-src 'none'; script-src 'nonce-${nonce}'; style-src 'nonce-${nonce}'; connect-src 'self'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`,
  });
  response.end(PAGE.replaceAll("{{nonce}}", nonce).replace("{{config}}", () => inlineJson(config)));
}

/** The local API fallback serving the demo page's routes; answers false for any other path. */
export function demoPage(options: DemoPageOptions) {
  return async (request: IncomingMessage, response: ServerResponse): Promise<boolean> => {
    if (request.method !== "GET" && request.method !== "HEAD") return false;
    const path = new URL(request.url ?? "/", "http://localhost").pathname;
    if (path === "/demo/api/connectors") await listConnectors(options, request, response);
    else if (path === "/" || path === "/demo/error" || /^\/demo\/connected\/[^/]+$/.test(path))
      sendPage(options, response);
    else if (path === "/favicon.ico") response.writeHead(204, HEADERS).end();
    else return false;
    return true;
  };
}

const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1">
<title>connector-oauth · local demo</title>
<style nonce="{{nonce}}">
:root{--fg:#1d2330;--muted:#5b6475;--line:#e3e6ec;--bg:#f6f7f9;--ok:#137a3f;--okbg:#e6f5ec;--bad:#b42318;--badbg:#fdecea;--accent:#2457d6}
*{box-sizing:border-box}
body{margin:0;font:15px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif;color:var(--fg);background:var(--bg)}
header{background:#1d2330;color:#fff;padding:14px 24px;display:flex;align-items:baseline;gap:12px}
header h1{font-size:17px;margin:0;font-weight:600}
header span{color:#aab3c5;font-size:13px}
main{max-width:880px;margin:24px auto;padding:0 16px}
section{background:#fff;border:1px solid var(--line);border-radius:8px;padding:16px 20px;margin-bottom:16px}
h2{font-size:15px;margin:0 0 10px}
table{width:100%;border-collapse:collapse}
th,td{text-align:left;padding:8px 6px;border-bottom:1px solid var(--line);font-size:14px;vertical-align:middle}
th{color:var(--muted);font-weight:500;font-size:12px;text-transform:uppercase;letter-spacing:.04em}
code,.mono{font:13px/1.4 ui-monospace,SFMono-Regular,Menlo,monospace}
button{font:inherit;font-size:14px;padding:6px 14px;border-radius:6px;border:1px solid var(--accent);background:var(--accent);color:#fff;cursor:pointer}
button.secondary{background:#fff;color:var(--accent)}
button:disabled{opacity:.6;cursor:progress}
.pill{display:inline-block;padding:1px 10px;border-radius:999px;font-size:12px;font-weight:600;background:#eef0f4;color:var(--muted)}
.pill.authenticated{background:var(--okbg);color:var(--ok)}
.pill.needs_reauth,.pill.disconnected{background:var(--badbg);color:var(--bad)}
.banner{border-radius:8px;padding:14px 20px;margin-bottom:16px;border:1px solid}
.banner.ok{background:var(--okbg);border-color:#b7e1c6;color:var(--ok)}
.banner.bad{background:var(--badbg);border-color:#f5c2bd;color:var(--bad)}
.banner strong{display:block;font-size:16px}
.banner p{margin:4px 0 0;color:var(--fg)}
ol{margin:0;padding-left:20px}
li{margin:4px 0}
dl{display:grid;grid-template-columns:max-content 1fr;gap:4px 16px;margin:0}
dt{color:var(--muted)}
dd{margin:0;word-break:break-all}
.token{word-break:break-all;background:var(--bg);padding:8px;border-radius:6px;margin:8px 0 0}
.muted{color:var(--muted)}
.hidden{display:none}
.banner button{margin-top:10px}
.banner code{word-break:break-all}
.wide{overflow-x:auto}
@media (max-width:600px){header{padding:12px 16px;flex-wrap:wrap}main{margin:16px auto;padding:0 10px}section{padding:12px}.optional{display:none}dl{grid-template-columns:1fr}dt{margin-top:6px}}
</style>
</head>
<body>
<header><h1>connector-oauth</h1><span>local mode · demo page</span></header>
<main>
<div id="banner" class="banner hidden" role="status"><strong id="banner-title"></strong><p id="banner-text"></p><dl id="banner-details" class="hidden"></dl><p id="banner-command" class="hidden"></p><button id="banner-retry" class="hidden">Try again</button></div>
<section>
<h2>Connectors of org <code id="org">…</code></h2>
<div class="wide"><table><thead><tr><th>Connector</th><th class="optional">Provider</th><th>Status</th><th class="optional">Token expires</th><th></th></tr></thead>
<tbody id="connectors"><tr><td colspan="5" class="muted">Loading…</td></tr></tbody></table></div>
<p id="list-error" class="muted hidden"></p>
</section>
<section>
<h2>What happens when you click Connect</h2>
<ol>
<li>The page calls <code>GET /connectors/{id}/oauth/authorize</code> with the dev token and gets the provider's authorization URL and a KMS-signed <code>state</code>.</li>
<li>Your browser goes to the demo provider: sign in with any name and any password, then consent.</li>
<li>The provider redirects to <code>/connectors/oauth/callback</code>; the handler checks the state, exchanges the code with its PKCE verifier and stores the tokens envelope-encrypted with KMS in DynamoDB.</li>
<li>The callback redirects back here, to the success or the error page, and the table shows the connector's status.</li>
</ol>
</section>
<section>
<h2>Endpoints</h2>
<dl id="endpoints"></dl>
<details><summary>Dev admin token</summary><div class="token mono" id="token"></div></details>
</section>
</main>
<script type="application/json" id="config">{{config}}</script>
<script nonce="{{nonce}}">
"use strict";
const config = JSON.parse(document.getElementById("config").textContent);
const auth = { Authorization: "Bearer " + config.devToken };
// What each outcome means, in words (the codes come from the callback's oauth_error).
const outcomes = {
  access_denied: ["Sign-in cancelled", "Access was not granted at the provider."],
  provider_error: ["The provider reported an error", "The provider could not complete the sign-in."],
  token_exchange_failed: ["The provider did not accept the sign-in", "Exchanging the code for tokens failed."],
  state_expired: ["The sign-in took too long", "Sign-in links are valid for 10 minutes. Start again to get a new one."],
  iss_mismatch: ["Unexpected provider", "The response did not come from the expected provider."],
  invalid_request: ["Incomplete response", "The provider's response was incomplete."],
  server_error: ["Something went wrong", "Something went wrong while connecting."],
};
let connectors = [];
function el(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = text;
  if (className) node.className = className;
  return node;
}
function banner(ok, title, text, details, retry) {
  const node = document.getElementById("banner");
  node.className = "banner " + (ok ? "ok" : "bad");
  document.getElementById("banner-title").textContent = title;
  document.getElementById("banner-text").textContent = text;
  const list = document.getElementById("banner-details");
  list.replaceChildren();
  for (const [label, value] of details || []) list.append(el("dt", label), el("dd", value, "mono"));
  list.classList.toggle("hidden", !(details && details.length));
  const button = document.getElementById("banner-retry");
  button.classList.toggle("hidden", !retry);
  button.onclick = retry ? () => connect(retry, button) : null;
}
const named = (id) => (connectors.find((c) => c._id === id) || { name: id }).name;
function showOutcome() {
  const connected = /^\\/demo\\/connected\\/([^/]+)$/.exec(location.pathname);
  if (connected) {
    const id = decodeURIComponent(connected[1]);
    const connector = connectors.find((c) => c._id === id) || { _id: id, name: id };
    const details = [];
    const account = connector.connectedAccount;
    if (account) details.push(["Account", (account.name ? account.name + " · " : "") + (account.email || account.id)]);
    if (connector.grantedScopes) details.push(["Granted scopes", connector.grantedScopes.join(" ")]);
    details.push(["Print an access token", config.accessTokenCommand.replace("{id}", id)]);
    banner(true, "Connected to " + connector.name, "The provider's tokens are stored, encrypted.", details);
  } else if (location.pathname === "/demo/error") {
    const query = new URLSearchParams(location.search);
    const code = query.get("oauth_error") || "unknown";
    const id = query.get("connectorId") || "";
    const connector = connectors.find((c) => c._id === id);
    const [title, text] = Object.hasOwn(outcomes, code) ? outcomes[code] : ["Could not connect", "Unknown error."];
    const name = connector ? connector.name : id || "the connector";
    // A cancelled reconnect leaves the earlier grant in place: say so rather than "not connected".
    const still = connector && connector.isAuthenticated ? " " + name + " is still connected with its earlier sign-in." : "";
    banner(false, title + " · " + name, text + still, [], connector ? id : undefined);
  }
}
async function connect(id, button) {
  button.disabled = true;
  try {
    const url = "/connectors/" + encodeURIComponent(id) + "/oauth/authorize?baseUrl=" + encodeURIComponent(config.appOrigin);
    const response = await fetch(url, { headers: auth });
    const body = await response.json();
    if (!body.success) throw new Error(body.error.code + ": " + body.error.message);
    location.assign(body.authorizationUrl);
  } catch (error) {
    banner(false, "Could not start connecting", String(error.message || error), [], id);
    button.disabled = false;
  }
}
function row(connector) {
  const tr = el("tr");
  const name = el("td");
  name.append(el("div", connector.name), el("div", connector._id + " · " + connector.scope, "muted mono"));
  const status = el("td");
  status.append(el("span", connector.status.replace("_", " "), "pill " + connector.status));
  const account = connector.connectedAccount;
  if (account) status.append(el("div", "as " + (account.email || account.id), "muted mono"));
  const action = el("td");
  const button = el("button", connector.isAuthenticated ? "Reconnect" : "Connect", connector.isAuthenticated ? "secondary" : "");
  button.dataset.connector = connector._id;
  button.addEventListener("click", () => connect(connector._id, button));
  action.append(button);
  const expires = connector.tokenExpiresAt ? new Date(connector.tokenExpiresAt).toLocaleString() : "–";
  tr.append(name, el("td", connector.provider, "optional"), status, el("td", expires, "optional"), action);
  return tr;
}
async function loadConnectors() {
  const body = document.getElementById("connectors");
  try {
    const response = await fetch("/demo/api/connectors", { headers: auth });
    const result = await response.json();
    if (!result.success) throw new Error(result.error.message);
    document.getElementById("org").textContent = result.caller.orgId;
    connectors = result.connectors;
    body.replaceChildren(...result.connectors.map(row));
    if (!result.connectors.length) body.replaceChildren(el("tr", "No connectors in this org.", "muted"));
  } catch (error) {
    body.replaceChildren();
    const note = document.getElementById("list-error");
    note.textContent = "Could not load connectors: " + (error.message || error);
    note.classList.remove("hidden");
  }
}
function showEndpoints() {
  const list = document.getElementById("endpoints");
  for (const [label, url] of Object.entries(config.endpoints)) list.append(el("dt", label), el("dd", url, "mono"));
  document.getElementById("token").textContent = config.devToken;
}
showEndpoints();
loadConnectors().then(showOutcome);
</script>
</body>
</html>
`;
