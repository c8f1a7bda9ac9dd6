import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';

/**
 * The browser binding: one random value per browser in an HttpOnly cookie. CSRF tokens and
 * upstream transactions are bound to it, so a form or a callback URL taken from one browser
 * is useless in another (AT-06, CSRF on every form).
 */
export class BrowserBinding {
  readonly cookieName: string;
  private readonly secure: boolean;
  private readonly csrfKey: Buffer;

  constructor(issuer: string, cookieKey: string) {
    this.secure = issuer.startsWith('https:');
    // __Host- prefix: Secure, Path=/, no Domain — only possible over https.
    this.cookieName = this.secure ? '__Host-igate_b' : 'igate_b';
    this.csrfKey = createHmac('sha256', cookieKey).update('igate csrf key').digest();
  }

  read(req: FastifyRequest): string | undefined {
    const header = req.headers.cookie;
    if (!header) return undefined;
    for (const part of header.split(';')) {
      const eq = part.indexOf('=');
      if (eq > 0 && part.slice(0, eq).trim() === this.cookieName) {
        const v = part.slice(eq + 1).trim();
        return /^[A-Za-z0-9_-]{32,64}$/.test(v) ? v : undefined;
      }
    }
    return undefined;
  }

  /** The browser's value, creating the cookie on this response when it has none. */
  ensure(req: FastifyRequest, reply: FastifyReply): string {
    const existing = this.read(req);
    if (existing) return existing;
    const value = randomBytes(24).toString('base64url');
    const attrs = ['Path=/', 'HttpOnly', 'SameSite=Lax', ...(this.secure ? ['Secure'] : [])];
    reply.header('set-cookie', `${this.cookieName}=${value}; ${attrs.join('; ')}`);
    return value;
  }

  csrfToken(browser: string, uid: string): string {
    return createHmac('sha256', this.csrfKey).update(`${uid}.${browser}`).digest('base64url');
  }

  checkCsrf(req: FastifyRequest, uid: string, token: unknown): boolean {
    const browser = this.read(req);
    if (!browser || typeof token !== 'string') return false;
    const expected = Buffer.from(this.csrfToken(browser, uid));
    const got = Buffer.from(token);
    return got.length === expected.length && timingSafeEqual(got, expected);
  }
}
