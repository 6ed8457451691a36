/**
 * A cookie-keeping HTTP client for the console's server tests: what a browser does with cookies,
 * redirects (not followed, so tests see them) and the Origin header of a form post.
 */
export interface Reply {
  readonly status: number;
  readonly headers: Headers;
  /** the body; HTML with whitespace between tags removed and runs of whitespace as one space */
  readonly text: string;
  readonly location: string | null;
}

export class HttpSession {
  private readonly cookies = new Map<string, string>();
  constructor(readonly baseUrl: string) {}

  cookie(name: string): string | undefined {
    return this.cookies.get(name);
  }

  async get(path: string): Promise<Reply> {
    return this.send(path, { method: 'GET' });
  }

  /** A form post; `origin` defaults to the server's own (what a browser sends from a console page). */
  async post(path: string, form: Record<string, string>, options: { origin?: string | null } = {}): Promise<Reply> {
    const origin = options.origin === undefined ? this.baseUrl : options.origin;
    return this.send(path, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...(origin === null ? {} : { origin }) },
      body: new URLSearchParams(form).toString(),
    });
  }

  /** The value of a hidden form field on a page (the CSRF token). */
  static field(page: string, name: string): string {
    const match = new RegExp(`name="${name}" value="([^"]*)"`).exec(page);
    if (match === null) throw new Error(`no field ${name} on the page`);
    return match[1]!;
  }

  /** Signs in with a token through the form; returns the reply to the POST. */
  async signIn(token: string, next = '/'): Promise<Reply> {
    const form = await this.get(`/sign-in?next=${encodeURIComponent(next)}`);
    return this.post('/sign-in', { token, next, csrf: HttpSession.field(form.text, 'csrf') });
  }

  private async send(path: string, init: RequestInit): Promise<Reply> {
    const cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    const response = await fetch(this.baseUrl + path, {
      ...init,
      redirect: 'manual',
      headers: { ...(init.headers as Record<string, string>), ...(cookie ? { cookie } : {}) },
    });
    for (const line of response.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq);
      const value = pair!.slice(eq + 1);
      if (value === '' || /expires=Thu, 01 Jan 1970/i.test(line)) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    const body = await response.text();
    // pages compared as markup without the indentation the template source carries
    const text = response.headers.get('content-type')?.startsWith('text/html') ? body.replace(/>\s+</g, '><').replace(/\s+/g, ' ') : body;
    return { status: response.status, headers: response.headers, text, location: response.headers.get('location') };
  }
}
