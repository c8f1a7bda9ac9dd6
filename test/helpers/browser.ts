/**
 * A small browser for tests: a cookie jar per host, manual redirects, form submission.
 * It drives the broker and the simulators over real HTTP exactly as a person's browser would.
 */
export interface Page {
  url: string;
  status: number;
  headers: Headers;
  body: string;
}

interface Cookie {
  name: string;
  value: string;
  path: string;
}

export class Browser {
  // Keyed by host name without the port, as browsers do: cookies are not isolated by port, so
  // the broker, the simulators and a portal on one machine share a jar (and must not collide).
  private readonly jar = new Map<string, Cookie[]>();
  /** Every URL visited, in order (tests read redirects and the final portal URL from it). */
  readonly history: string[] = [];

  cookies(hostname: string): Cookie[] {
    return this.jar.get(hostname) ?? [];
  }

  clearCookies(hostname?: string): void {
    if (hostname) this.jar.delete(hostname);
    else this.jar.clear();
  }

  private store(url: URL, headers: Headers) {
    for (const line of headers.getSetCookie()) {
      const [pair, ...attrs] = line.split(';');
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq).trim();
      const value = pair!.slice(eq + 1).trim();
      let path = '/';
      let expired = false;
      for (const a of attrs) {
        const [k, v] = a.trim().split('=');
        if (k?.toLowerCase() === 'path' && v) path = v;
        if (k?.toLowerCase() === 'expires' && v && Date.parse(v) < Date.now()) expired = true;
        if (k?.toLowerCase() === 'max-age' && Number(v) <= 0) expired = true;
      }
      const list = (this.jar.get(url.hostname) ?? []).filter((c) => !(c.name === name && c.path === path));
      if (!expired && value !== '') list.push({ name, value, path });
      this.jar.set(url.hostname, list);
    }
  }

  private cookieHeader(url: URL): string | undefined {
    const list = (this.jar.get(url.hostname) ?? []).filter((c) => url.pathname === c.path || url.pathname.startsWith(c.path.endsWith('/') ? c.path : `${c.path}/`) || c.path === '/');
    return list.length ? list.map((c) => `${c.name}=${c.value}`).join('; ') : undefined;
  }

  /** One request, no redirect following. */
  async request(url: string, init: { method?: string; form?: Record<string, string>; headers?: Record<string, string> } = {}): Promise<Page> {
    const u = new URL(url);
    const headers: Record<string, string> = { ...init.headers };
    const cookie = this.cookieHeader(u);
    if (cookie) headers.cookie = cookie;
    let body: string | undefined;
    if (init.form) {
      body = new URLSearchParams(init.form).toString();
      headers['content-type'] = 'application/x-www-form-urlencoded';
    }
    this.history.push(url);
    const res = await fetch(u, { method: init.method ?? (init.form ? 'POST' : 'GET'), headers, body, redirect: 'manual' });
    this.store(u, res.headers);
    return { url, status: res.status, headers: res.headers, body: await res.text() };
  }

  /**
   * Follow redirects until a page that is not a redirect, or until a URL matching `stopAt`
   * (the portal's redirect_uri, which the test does not serve). Returns the last page or
   * a synthetic page for the stop URL.
   */
  async follow(page: Page, stopAt?: (url: string) => boolean, max = 20): Promise<Page> {
    let current = page;
    for (let i = 0; i < max; i++) {
      if (current.status < 300 || current.status >= 400) return current;
      const location = current.headers.get('location');
      if (!location) return current;
      const next = new URL(location, current.url).href;
      if (stopAt?.(next)) {
        this.history.push(next);
        return { url: next, status: 0, headers: new Headers(), body: '' };
      }
      current = await this.request(next);
    }
    throw new Error('too many redirects');
  }

  async go(url: string, stopAt?: (url: string) => boolean): Promise<Page> {
    return this.follow(await this.request(url), stopAt);
  }

  async submit(page: Page, form: Record<string, string>, opts: { action?: string; stopAt?: (url: string) => boolean; selector?: string } = {}): Promise<Page> {
    const f = findForm(page.body, opts.selector);
    const action = new URL(opts.action ?? f.action ?? page.url, page.url).href;
    return this.follow(await this.request(action, { form: { ...f.fields, ...form } }), opts.stopAt);
  }
}

/** The first form (or the one whose action contains `selector`) and its hidden fields. */
export function findForm(html: string, selector?: string): { action: string | undefined; fields: Record<string, string> } {
  const forms = [...html.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/g)];
  const match = forms.find((m) => !selector || (m[1] ?? '').includes(selector)) ?? forms[0];
  if (!match) throw new Error(`no form on the page:\n${html.slice(0, 500)}`);
  const action = /action="([^"]*)"/.exec(match[1] ?? '')?.[1]?.replaceAll('&amp;', '&');
  const fields: Record<string, string> = {};
  for (const input of (match[2] ?? '').matchAll(/<input\b([^>]*)>/g)) {
    const attrs = input[1] ?? '';
    if (!/type="hidden"/.test(attrs)) continue;
    const name = /name="([^"]*)"/.exec(attrs)?.[1];
    const value = /value="([^"]*)"/.exec(attrs)?.[1] ?? '';
    if (name) fields[name] = value.replaceAll('&amp;', '&').replaceAll('&quot;', '"');
  }
  return { action, fields };
}
