import * as jose from 'jose';
import { z } from 'zod';
import type { Store } from '../store/store.js';
import { auditEvent, eventHash, genesis, pseudonymsOf, type AuditEvent, type PseudonymKey } from './event.js';
import { AUDIT_STREAM } from './log.js';

/**
 * Reading the audit trail: filtered queries with cursors, statistics, and verification of
 * every chain (and of the seals, in the stream and from an outside copy).
 */

export interface AuditFilter {
  from?: number | undefined;
  to?: number | undefined;
  province?: string | undefined;
  client?: string | undefined;
  idp?: string | undefined;
  accountType?: string | undefined;
  outcome?: string | undefined;
  event?: string | undefined;
  /** A national identifier or tax code as typed by the auditor: hashed like the stored pseudonyms. */
  nationalId?: string | undefined;
}

export interface Page {
  events: (AuditEvent & { id: string })[];
  /** Pass back as `cursor` for the next page; absent on the last page. */
  next?: string | undefined;
}

const BATCH = 500;

export async function* entries(store: Store, from = '-', to = '+'): AsyncGenerator<[string, Record<string, string>]> {
  let start = from;
  for (;;) {
    const rows = await store.streamRange(AUDIT_STREAM, start, to, BATCH);
    for (const row of rows) yield row;
    if (rows.length < BATCH) return;
    start = `(${rows[rows.length - 1]![0]}`;
  }
}

export function matcher(filter: AuditFilter, keys: PseudonymKey[]): (e: AuditEvent) => boolean {
  const subjects = filter.nationalId ? new Set(pseudonymsOf(keys, filter.nationalId.trim())) : undefined;
  return (e) =>
    (!filter.province || e.province === filter.province) && (!filter.client || e.client === filter.client)
    && (!filter.idp || e.idp === filter.idp) && (!filter.accountType || e.accountType === filter.accountType)
    && (!filter.outcome || e.outcome === filter.outcome) && (!filter.event || e.event === filter.event)
    && (!subjects || (e.subject !== undefined && subjects.has(e.subject)));
}

/** One page of events matching the filter, oldest first, from the cursor on. */
export async function query(store: Store, keys: PseudonymKey[], filter: AuditFilter, opts: { cursor?: string | undefined; limit: number }): Promise<Page> {
  const match = matcher(filter, keys);
  const start = opts.cursor ? `(${opts.cursor}` : filter.from !== undefined ? String(filter.from) : '-';
  const end = filter.to !== undefined ? String(filter.to) : '+';
  const events: Page['events'] = [];
  for await (const [id, fields] of entries(store, start, end)) {
    if (!fields.e) continue;
    const e = auditEvent.safeParse(JSON.parse(fields.e));
    if (!e.success || !match(e.data)) continue;
    if (events.length === opts.limit) return { events, next: events[events.length - 1]!.id };
    events.push({ ...e.data, id });
  }
  return { events };
}

export interface Stats {
  days: Record<string, Record<string, number>>;
  denialsByRule: Record<string, Record<string, number>>;
  stepUp: Record<string, number>;
  total: number;
}

/** Counts per local day × upstream × account type × outcome, refusals per rule per day, step-up outcomes. */
export async function stats(store: Store, keys: PseudonymKey[], filter: AuditFilter, timeZone: string): Promise<Stats> {
  const match = matcher(filter, keys);
  const day = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' });
  const out: Stats = { days: {}, denialsByRule: {}, stepUp: {}, total: 0 };
  const inc = (o: Record<string, number>, k: string) => (o[k] = (o[k] ?? 0) + 1);
  for await (const [, fields] of entries(store, filter.from !== undefined ? String(filter.from) : '-', filter.to !== undefined ? String(filter.to) : '+')) {
    if (!fields.e) continue;
    const p = auditEvent.safeParse(JSON.parse(fields.e));
    if (!p.success || !match(p.data)) continue;
    const e = p.data;
    const d = day.format(new Date(e.time));
    out.total++;
    if (e.event === 'login.finished' || e.event === 'login.refused' || (e.event === 'policy.decision' && e.outcome === 'deny')) {
      inc((out.days[d] ??= {}), `${e.event === 'login.finished' ? 'success' : 'refused'}|${e.idp ?? '-'}|${e.accountType ?? '-'}`);
    }
    if (e.event === 'policy.decision' && (e.outcome === 'deny' || e.outcome === 'would_deny')) inc((out.denialsByRule[d] ??= {}), `${e.rule ?? '-'}${e.outcome === 'would_deny' ? ' (report-only)' : ''}`);
    if (e.event === 'otp.verified' || e.event === 'otp.failed' || e.event === 'otp.locked' || e.event === 'signature.verified' || e.event === 'signature.refused') inc(out.stepUp, e.event);
  }
  return out;
}

export interface VerifyResult {
  ok: boolean;
  events: number;
  chains: number;
  seals: number;
  /** The first problem found, naming the stream entry (and the event's chain and seq). */
  firstBad?: { id: string; chain?: string | undefined; seq?: number | undefined; problem: string } | undefined;
  warnings: string[];
}

const sealPayload = z.object({ chain: z.string(), seq: z.number().int(), hash: z.string(), at: z.string() });

/**
 * Walk the stream: every event's hash recomputed, every chain's seq contiguous and linked, every
 * seal's signature and head checked; then the outside seals (from the log) must all be covered.
 * Anchors give where a chain resumes after archived (trimmed) events.
 */
export type Anchors = Record<string, { seq: number; hash: string }>;

export function verify(store: Store, publicKeys: jose.JWK[], opts: { externalSeals?: string[]; anchors?: Anchors } = {}): Promise<VerifyResult> {
  return verifyEntries(entries(store), publicKeys, opts);
}

/** The same walk over any sequence of entries (the stream, or archived files). */
export async function verifyEntries(source: AsyncIterable<[string, Record<string, string>]> | Iterable<[string, Record<string, string>]>, publicKeys: jose.JWK[], opts: { externalSeals?: string[]; anchors?: Anchors } = {}): Promise<VerifyResult & { heads: Anchors }> {
  const jwks = jose.createLocalJWKSet({ keys: publicKeys });
  const heads = new Map<string, { seq: number; hash: string; hashes: Map<number, string> }>();
  const result: VerifyResult = { ok: true, events: 0, chains: 0, seals: 0, warnings: [] };
  const fail = (id: string, problem: string, chain?: string, seq?: number) => {
    if (result.ok) result.firstBad = { id, chain, seq, problem };
    result.ok = false;
  };
  const checkSeal = async (jws: string, id: string) => {
    let payload: z.infer<typeof sealPayload>;
    try {
      const v = await jose.compactVerify(jws, jwks);
      payload = sealPayload.parse(JSON.parse(new TextDecoder().decode(v.payload)));
    } catch {
      return fail(id, 'seal signature is not valid');
    }
    const anchor = opts.anchors?.[payload.chain];
    if (anchor && payload.seq < anchor.seq) {
      result.seals++; // it seals archived events, verified when they were archived
      return;
    }
    const head = heads.get(payload.chain);
    if (!head || head.seq < payload.seq) return fail(id, `events of chain ${payload.chain} up to seq ${payload.seq} are missing (sealed, then deleted or truncated)`, payload.chain, payload.seq);
    if (head.hashes.get(payload.seq) !== payload.hash) return fail(id, `chain ${payload.chain} at seq ${payload.seq} differs from its seal`, payload.chain, payload.seq);
    result.seals++;
  };

  for await (const [id, fields] of source) {
    if (!result.ok) break;
    if (fields.seal) {
      await checkSeal(fields.seal, id);
      continue;
    }
    const parsed = fields.e ? auditEvent.safeParse(JSON.parse(fields.e)) : undefined;
    if (!parsed?.success) {
      fail(id, 'entry is not an audit event');
      continue;
    }
    const e = parsed.data;
    result.events++;
    const { hash, ...rest } = e;
    if (eventHash(rest) !== hash) {
      fail(id, 'event content does not match its hash (modified)', e.chain, e.seq);
      continue;
    }
    let head = heads.get(e.chain);
    if (!head) {
      const anchor = opts.anchors?.[e.chain];
      head = { seq: anchor?.seq ?? 0, hash: anchor?.hash ?? genesis(e.chain), hashes: new Map(anchor ? [[anchor.seq, anchor.hash]] : []) };
      heads.set(e.chain, head);
    }
    if (e.seq <= head.seq) fail(id, `seq ${e.seq} comes after seq ${head.seq} of its chain (inserted, duplicated or reordered)`, e.chain, e.seq);
    else if (e.seq > head.seq + 1) fail(id, `seq ${head.seq + 1}…${e.seq - 1} of its chain are missing (deleted)`, e.chain, e.seq);
    else if (e.prev !== head.hash) fail(id, 'prev does not match the previous event of its chain (inserted or replaced)', e.chain, e.seq);
    head.seq = e.seq;
    head.hash = e.hash;
    head.hashes.set(e.seq, e.hash);
  }
  if (result.ok) for (const jws of opts.externalSeals ?? []) await checkSeal(jws, '(outside copy)');
  result.chains = heads.size;
  if (result.ok && result.seals === 0 && result.events > 0) result.warnings.push('no seal yet: events after the last seal cannot be proven complete');
  return { ...result, heads: Object.fromEntries([...heads].map(([c, h]) => [c, { seq: h.seq, hash: h.hash }])) };
}

/** Seals written to the pino log (one JSON object per line): the outside copy of the proof. */
export function sealsFromLog(text: string): string[] {
  const out: string[] = [];
  for (const line of text.split('\n')) {
    if (!line.includes('auditSeal')) continue;
    try {
      const o = JSON.parse(line) as { auditSeal?: unknown };
      if (typeof o.auditSeal === 'string') out.push(o.auditSeal);
    } catch {
      // not a JSON line
    }
  }
  return out;
}
