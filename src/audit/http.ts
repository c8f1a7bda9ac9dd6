import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AuditConfig } from '../config/schema.js';
import { html, layout, raw } from '../interaction/view.js';
import type { BrowserBinding } from '../interaction/browser.js';
import { startOfLocalDay } from '../policy/index.js';
import type { Store } from '../store/store.js';
import { stackedBars } from './charts.js';
import { toCsv } from './format.js';
import type { Audit } from './index.js';
import { query, stats, verify, type AuditFilter } from './reader.js';
import { loadAnchors } from './archive.js';

/**
 * The auditors' HTTP API (`/audit/events`, `/audit/stats`, `/audit/verify`: bearer tokens from
 * config, stored as SHA-256 hashes, each auditor named) and the dashboard at `/audit/` (the same
 * token once, then a signed cookie). Every query is itself an audit event.
 */

export interface AuditHttpDeps {
  audit: Audit;
  store: Store;
  cfg: AuditConfig | undefined;
  cookieKey: string;
  timeZone: string;
  secure: boolean;
  browser: BrowserBinding;
  support: string;
}

const COOKIE = 'igate_audit';
const SESSION_MS = 8 * 3600_000;
const FILTER_KEYS = ['from', 'to', 'province', 'client', 'idp', 'account_type', 'outcome', 'event', 'national_id'] as const;

export async function auditRoutes(app: FastifyInstance, deps: AuditHttpDeps): Promise<void> {
  const auditors = (deps.cfg?.auditors ?? []).map((a) => ({ name: a.name, hash: Buffer.from(a.tokenSha256, 'hex') }));
  const sessionKey = createHmac('sha256', deps.cookieKey).update('igate audit session').digest();

  const byToken = (token: string | undefined) => {
    if (!token) return undefined;
    const h = createHash('sha256').update(token).digest();
    return auditors.find((a) => a.hash.length === h.length && timingSafeEqual(a.hash, h))?.name;
  };
  const sign = (v: string) => createHmac('sha256', sessionKey).update(v).digest('base64url');
  const fromCookie = (req: FastifyRequest) => {
    const raw = /(?:^|;\s*)igate_audit=([^;]+)/.exec(req.headers.cookie ?? '')?.[1];
    if (!raw) return undefined;
    const [name64, exp, mac] = raw.split('.');
    if (!name64 || !exp || !mac || sign(`${name64}.${exp}`) !== mac || Number(exp) < Date.now()) return undefined;
    const name = Buffer.from(name64, 'base64url').toString();
    return auditors.some((a) => a.name === name) ? name : undefined;
  };
  const auditorOf = (req: FastifyRequest) => byToken(/^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1]) ?? fromCookie(req);

  function filterOf(q: Record<string, unknown>): AuditFilter {
    const s = (k: string) => (typeof q[k] === 'string' && q[k] !== '' ? (q[k] as string) : undefined);
    const at = (v: string | undefined, end: boolean) => (v === undefined ? undefined : /^\d{4}-\d{2}-\d{2}$/.test(v) ? startOfLocalDay(v, deps.timeZone) + (end ? 86_400_000 - 1 : 0) : Date.parse(v) || undefined);
    return {
      from: at(s('from'), false), to: at(s('to'), true), province: s('province'), client: s('client'), idp: s('idp'),
      accountType: s('account_type'), outcome: s('outcome'), event: s('event'), nationalId: s('national_id'),
    };
  }
  const described = (q: Record<string, unknown>) => Object.fromEntries(FILTER_KEYS.filter((k) => typeof q[k] === 'string' && q[k] !== '').map((k) => [k, k === 'national_id' ? '(hashed)' : String(q[k]).slice(0, 64)]));
  const record = (req: FastifyRequest, auditor: string, what: string, via: string) => deps.audit.log.append({
    event: 'audit.query', outcome: 'info', reason: what, ip: req.ip, userAgent: req.headers['user-agent'], requestId: req.id,
    detail: { auditor, via, ...described(req.query as Record<string, unknown>) },
  });

  function api(handler: (req: FastifyRequest, reply: FastifyReply, auditor: string) => Promise<unknown>) {
    return async (req: FastifyRequest, reply: FastifyReply) => {
      const auditor = auditorOf(req);
      if (!auditor) return reply.code(401).header('www-authenticate', 'Bearer realm="igate-audit"').header('cache-control', 'no-store').send({ error: 'unauthorized', error_description: 'an auditor bearer token is required' });
      reply.header('cache-control', 'no-store');
      return handler(req, reply, auditor);
    };
  }

  app.get('/audit/events', api(async (req, reply, auditor) => {
    const q = req.query as Record<string, unknown>;
    const limit = Math.min(1000, Math.max(1, Number(q.limit ?? 100) || 100));
    const page = await query(deps.store, deps.audit.keys, filterOf(q), { limit, cursor: typeof q.cursor === 'string' && /^\d+-\d+$/.test(q.cursor) ? q.cursor : undefined });
    await record(req, auditor, 'events', 'api');
    if (q.format === 'csv') {
      if (page.next) reply.header('x-next-cursor', page.next);
      return reply.type('text/csv; charset=utf-8').send(toCsv(page.events));
    }
    return { events: page.events, next_cursor: page.next ?? null };
  }));

  app.get('/audit/stats', api(async (req, _reply, auditor) => {
    const s = await stats(deps.store, deps.audit.keys, filterOf(req.query as Record<string, unknown>), deps.timeZone);
    await record(req, auditor, 'stats', 'api');
    return s;
  }));

  app.get('/audit/verify', api(async (req, reply, auditor) => {
    const r = await verify(deps.store, deps.audit.publicKeys, { anchors: await loadAnchors(deps.store) });
    await record(req, auditor, 'verify', 'api');
    return reply.code(r.ok ? 200 : 409).send({ ...r, heads: undefined });
  }));

  app.get('/audit/login', async (req, reply) => {
    const b = deps.browser.ensure(req, reply);
    return reply.type('text/html').send(loginPage(deps.browser.csrfToken(b, 'audit-login'), deps.support, false));
  });

  app.post('/audit/login', async (req, reply) => {
    const body = (req.body ?? {}) as { token?: unknown; csrf?: unknown };
    if (!deps.browser.checkCsrf(req, 'audit-login', body.csrf)) return reply.code(403).type('text/html').send(loginPage('', deps.support, true));
    const name = byToken(typeof body.token === 'string' ? body.token.trim() : undefined);
    const b = deps.browser.ensure(req, reply);
    if (!name) return reply.code(401).type('text/html').send(loginPage(deps.browser.csrfToken(b, 'audit-login'), deps.support, true));
    const v = `${Buffer.from(name).toString('base64url')}.${Date.now() + SESSION_MS}`;
    reply.header('set-cookie', `${COOKIE}=${v}.${sign(v)}; Path=/audit; HttpOnly; SameSite=Strict${deps.secure ? '; Secure' : ''}; Max-Age=${SESSION_MS / 1000}`);
    return reply.redirect('/audit/', 303);
  });

  app.get('/audit/', async (req, reply) => {
    const auditor = fromCookie(req);
    if (!auditor) return reply.redirect('/audit/login', 303);
    const q = req.query as Record<string, unknown>;
    const filter = filterOf(q);
    const [page, s] = await Promise.all([
      query(deps.store, deps.audit.keys, filter, { limit: 50, cursor: typeof q.cursor === 'string' && /^\d+-\d+$/.test(q.cursor) ? q.cursor : undefined }),
      stats(deps.store, deps.audit.keys, filter, deps.timeZone),
    ]);
    await record(req, auditor, 'dashboard', 'dashboard');
    return reply.type('text/html').header('cache-control', 'no-store').send(dashboard(auditor, q, page, s, deps.support, deps.timeZone));
  });
}

function loginPage(csrf: string, support: string, failed: boolean): string {
  return layout({
    locale: 'vi', title: 'Tra cứu nhật ký đăng nhập', support,
    body: html`${failed ? html`<div class="card error" role="alert"><p>Mã truy cập không đúng hoặc biểu mẫu đã hết hạn.</p></div>` : ''}
<form method="post" action="/audit/login" class="card"><input type="hidden" name="csrf" value="${csrf}">
<label for="token">Mã truy cập của kiểm toán viên</label><input type="password" id="token" name="token" autocomplete="off" required>
<button type="submit">Đăng nhập</button></form>`,
  });
}

const OUTCOME_VI: Record<string, string> = { success: 'thành công', refused: 'bị từ chối', failure: 'thất bại', deny: 'từ chối', would_deny: 'sẽ từ chối (chạy thử)', info: 'ghi nhận' };
const TYPE_VI: Record<string, string> = { citizen: 'công dân', business: 'doanh nghiệp', organization: 'tổ chức', '-': '—' };
const STEP_VI: Record<string, string> = { 'otp.verified': 'OTP đúng', 'otp.failed': 'OTP sai', 'otp.locked': 'OTP bị khoá', 'signature.verified': 'chữ ký số hợp lệ', 'signature.refused': 'chữ ký số bị từ chối' };

function dashboard(auditor: string, q: Record<string, unknown>, page: Awaited<ReturnType<typeof query>>, s: Awaited<ReturnType<typeof stats>>, support: string, timeZone: string): string {
  const when = new Intl.DateTimeFormat('en-GB', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' });
  const v = (k: string) => (typeof q[k] === 'string' ? (q[k] as string) : '');
  const days = Object.keys(s.days).sort();
  const seriesKeys = [...new Set(days.flatMap((d) => Object.keys(s.days[d]!)))].filter((k) => k.startsWith('success|')).sort();
  const logins = stackedBars('Lượt đăng nhập thành công theo ngày, theo hệ thống xác thực và loại tài khoản', days,
    seriesKeys.map((k) => ({ name: `${k.split('|')[1]} · ${TYPE_VI[k.split('|')[2]!] ?? k.split('|')[2]}`, values: days.map((d) => s.days[d]![k] ?? 0) })));
  const refusalDays = Object.keys(s.denialsByRule).sort();
  const rules = [...new Set(refusalDays.flatMap((d) => Object.keys(s.denialsByRule[d]!)))].sort();
  const refusals = stackedBars('Lượt bị từ chối theo quy định, theo ngày', refusalDays, rules.map((r) => ({ name: r, values: refusalDays.map((d) => s.denialsByRule[d]![r] ?? 0) })));
  const stepKeys = Object.keys(s.stepUp).sort();
  const steps = stackedBars('Kết quả xác thực bổ sung (OTP, chữ ký số)', stepKeys.map((k) => STEP_VI[k] ?? k), [{ name: 'số lượt', values: stepKeys.map((k) => s.stepUp[k]!) }]);
  const qs = new URLSearchParams(Object.entries(q).filter(([k, x]) => typeof x === 'string' && k !== 'cursor') as [string, string][]).toString();
  const field = (name: string, label: string, type = 'text') => html`<label>${label}<input type="${type}" name="${name}" value="${v(name)}"></label>`;
  return layout({
    locale: 'vi', title: 'Nhật ký đăng nhập', support,
    body: html`<p class="hint">Kiểm toán viên: <strong>${auditor}</strong> · mọi lượt tra cứu đều được ghi vào nhật ký.</p>
<form method="get" action="/audit/" class="card filters">
${field('from', 'Từ ngày', 'date')}${field('to', 'Đến ngày', 'date')}${field('province', 'Tỉnh')}${field('client', 'Cổng dịch vụ công')}
${field('idp', 'Hệ thống xác thực (vneid, dvcqg)')}${field('account_type', 'Loại tài khoản (citizen, business, organization)')}
${field('outcome', 'Kết quả (success, failure, deny, would_deny)')}${field('event', 'Sự kiện')}${field('national_id', 'Số định danh / MST')}
<button type="submit">Lọc</button></form>
<p><a href="/audit/events?${qs}&format=csv&limit=1000">Tải CSV</a> · <a href="/audit/events?${qs}&limit=1000">Tải JSON</a></p>
<section aria-label="Biểu đồ">${[logins, refusals, steps].map((c) => raw(c))}</section>
<table class="events"><thead><tr><th>Thời gian (giờ Việt Nam)</th><th>Sự kiện</th><th>Kết quả</th><th>Lý do</th><th>Cổng</th><th>Hệ thống</th><th>Loại tài khoản</th><th>Định danh</th><th>Quy định</th></tr></thead>
<tbody>${page.events.map((e) => html`<tr><td>${when.format(new Date(e.time)).replace(',', '')}</td><td>${e.event}</td><td>${OUTCOME_VI[e.outcome] ?? e.outcome}</td><td>${e.reason ?? ''}</td><td>${e.client ?? ''}</td><td>${e.idp ?? ''}</td><td>${TYPE_VI[e.accountType ?? '-'] ?? e.accountType}</td><td>${e.maskedId ?? ''}</td><td>${e.rule ?? ''}</td></tr>`)}</tbody></table>
${page.next ? html`<p><a class="button secondary" href="/audit/?${qs}&cursor=${page.next}">Trang sau</a></p>` : ''}
<p class="meta">${s.total} sự kiện khớp bộ lọc.</p>`,
  });
}
