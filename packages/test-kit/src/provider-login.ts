/**
 * Walks the demo provider's development login and consent pages over plain HTTP with a cookie
 * jar, as a browser would, and returns the URL the provider finally redirects to (our callback).
 * For tests and scripted demos; the browser test uses a real browser instead.
 */

function formOf(html: string): { action: string; fields: Record<string, string> } {
  const action = /<form[^>]*action="([^"]+)"/.exec(html)?.[1];
  if (!action) {
    const text = html
      .replace(/<(style|script)[^>]*>[\s\S]*?<\/\1>/g, " ")
      .replace(/<[^>]+>/g, " ")
      .replace(/\s+/g, " ")
      .trim()
      .slice(0, 300);
    throw new Error(`provider page has no form: ${text}`);
  }
  const fields: Record<string, string> = {};
  for (const input of html.matchAll(/<input[^>]*type="hidden"[^>]*name="([^"]+)"[^>]*value="([^"]*)"/g)) {
    fields[input[1] as string] = input[2] as string;
  }
  return { action: action.replaceAll("&amp;", "&"), fields };
}

/** Follows redirects and submits login (as `login`) and consent until the browser would leave
 * the provider for `redirectPrefix`; returns that final URL without requesting it. */
export async function loginAtProvider(
  authorizationUrl: string,
  login: string,
  redirectPrefix: string,
): Promise<string> {
  const jar = new Map<string, string>();
  let url = authorizationUrl;
  let method = "GET";
  let body: URLSearchParams | undefined;
  for (let hop = 0; hop < 20; hop++) {
    if (url.startsWith(redirectPrefix)) return url;
    const cookie = [...jar].map(([k, v]) => `${k}=${v}`).join("; ");
    const response = await fetch(url, { method, body, redirect: "manual", headers: { cookie } });
    for (const setCookie of response.headers.getSetCookie()) {
      const [pair] = setCookie.split(";");
      const [name, ...value] = (pair ?? "").split("=");
      if (name) jar.set(name.trim(), value.join("="));
    }
    const location = response.headers.get("location");
    if (location) {
      url = new URL(location, url).href;
      method = "GET";
      body = undefined;
      continue;
    }
    const form = formOf(await response.text());
    const fields = form.fields.prompt === "login" ? { ...form.fields, login, password: "demo" } : form.fields;
    url = new URL(form.action, url).href;
    method = "POST";
    body = new URLSearchParams(fields);
  }
  throw new Error("too many steps at the provider");
}
