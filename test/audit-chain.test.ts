import t from 'tap';
import { createHash } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import * as jose from 'jose';
import { archive, archiveFiles, loadAnchors, readArchive } from '../src/audit/archive.js';
import { eventHash, type AuditEvent } from '../src/audit/event.js';
import { AUDIT_STREAM, AuditLog } from '../src/audit/log.js';
import { sealsFromLog, verify, verifyEntries } from '../src/audit/reader.js';
import { createLogger } from '../src/ops/logger.js';
import { RedisStore } from '../src/store/redis-store.js';
import { startRedis } from './helpers/redis.js';

// Tamper evidence of the audit trail: hash chains per instance, signed seals, an outside copy.
const redis = await startRedis();
const cfg = { url: redis.url, keyPrefix: redis.keyPrefix, commandTimeoutMs: 2000, connectTimeoutMs: 2000, sentinelName: 'mymaster' };
const store = await RedisStore.connect(cfg);
t.teardown(async () => {
  await store.close();
  await redis.stop();
});
const { privateKey, publicKey } = await jose.generateKeyPair('ES256');
const publicKeys = [{ ...(await jose.exportJWK(publicKey)), kid: 'k1', alg: 'ES256' }];
const sign = async (p: object) => new jose.CompactSign(new TextEncoder().encode(JSON.stringify(p))).setProtectedHeader({ alg: 'ES256', kid: 'k1' }).sign(privateKey);
const logLines: string[] = [];
const log = createLogger({ level: 'info', destination: new Writable({ write(c, _e, done) { logLines.push(String(c)); done(); } }) });
const settings = { keys: [{ id: 'a1', key: Buffer.from('audit-test-key') }], ipTruncation: 'none' as const, sealEvery: 10, sealIntervalMs: 3_600_000 };
const clock = { now: () => Date.now() };

const newLog = () => new AuditLog(store, settings, sign, log, clock);
const raw = async () => (await redis.client.xrange(AUDIT_STREAM, '-', '+')).map(([id, f]) => [id, Object.fromEntries([[f[0]!, f[1]!]])] as [string, Record<string, string>]);
const seals = () => sealsFromLog(logLines.join(''));

/** Rewrite the stream with the given entries (ids kept): how an attacker with Redis access edits history. */
async function rewrite(entries: [string, Record<string, string>][]) {
  const p = redis.client.pipeline().del(AUDIT_STREAM);
  for (const [id, f] of entries) p.xadd(AUDIT_STREAM, id, ...Object.entries(f).flat());
  await p.exec();
}

t.test('two instances appending 10 000 events at once: every chain verifies', async (t) => {
  const a = newLog();
  const b = newLog();
  await Promise.all(Array.from({ length: 10_000 }, (_, i) => (i % 2 ? a : b).append({ event: 'login.finished', outcome: 'success', client: 'p', person: { nationalId: `0790880${String(i).padStart(5, '0')}`, accountType: 'citizen' } })));
  await a.seal();
  await b.seal();
  const r = await verify(store, publicKeys);
  t.equal(r.ok, true, JSON.stringify(r.firstBad));
  t.equal(r.events, 10_000);
  t.equal(r.chains, 2);
  t.ok(r.seals >= 2, `${r.seals} seals (one per written batch of at least sealEvery events, and the final ones)`);
  const stored = (await raw()).map(([, f]) => f.e ?? '').join('\n');
  t.notMatch(stored, /0790880\d{5}/, 'no national id in clear in the stream');
});

t.test('every kind of tampering is detected and the first bad entry named', async (t) => {
  const original = await raw();
  const events = original.filter(([, f]) => f.e);
  const pick = (n: number) => events[n]!;
  const withEvent = (id: string, change: (e: AuditEvent) => AuditEvent) => original.map(([i, f]) => (i === id ? [i, { e: JSON.stringify(change(JSON.parse(f.e!) as AuditEvent)) }] : [i, f]) as [string, Record<string, string>]);

  const target = pick(500);
  await rewrite(withEvent(target[0], (e) => ({ ...e, outcome: 'failure' })));
  let r = await verify(store, publicKeys);
  t.match(r.firstBad, { id: target[0], problem: /modified/ }, 'a modified field');

  // A careful attacker recomputes the hash of the event and of everything after it in its chain.
  const chainOf = (JSON.parse(target[1].e!) as AuditEvent).chain;
  let prev = '';
  const targetIndex = original.findIndex(([i]) => i === target[0]);
  const recomputed = original.map(([i, f], index) => {
    if (!f.e) return [i, f];
    const e = JSON.parse(f.e) as AuditEvent;
    if (e.chain !== chainOf || index < targetIndex) return [i, f];
    const { hash: _h, ...rest } = { ...e, outcome: i === target[0] ? 'failure' as const : e.outcome, prev: i === target[0] ? e.prev : prev };
    const hash = eventHash(rest);
    prev = hash;
    return [i, { e: JSON.stringify({ ...rest, hash }) }];
  }) as [string, Record<string, string>][];
  await rewrite(recomputed);
  r = await verify(store, publicKeys);
  t.equal(r.ok, false, 'a recomputed chain no longer matches its signed seal');
  t.match(r.firstBad?.problem, /differs from its seal/);

  await rewrite(original.filter(([i]) => i !== pick(700)[0]));
  r = await verify(store, publicKeys);
  t.match(r.firstBad?.problem, /missing \(deleted\)|prev does not match/, 'a deleted event');

  const dup = pick(300);
  const inserted = [...original];
  const at = inserted.findIndex(([i]) => i === pick(301)[0]);
  const [ms, seq] = pick(301)[0].split('-').map(Number) as [number, number];
  inserted.splice(at + 1, 0, [`${ms}-${seq + 1_000_000}`, dup[1]]);
  await rewrite(inserted.sort((x, y) => (x[0].split('-').map(Number)[0]! - y[0].split('-').map(Number)[0]!) || (x[0].split('-').map(Number)[1]! - y[0].split('-').map(Number)[1]!)));
  r = await verify(store, publicKeys);
  t.equal(r.ok, false, 'an inserted event');

  const sameChain = events.filter(([, f]) => (JSON.parse(f.e!) as AuditEvent).chain === chainOf);
  const [x, y] = [sameChain[200]!, sameChain[201]!];
  await rewrite(original.map(([i, f]) => (i === x[0] ? [i, y[1]] : i === y[0] ? [i, x[1]] : [i, f])));
  r = await verify(store, publicKeys);
  t.match(r.firstBad, { id: x[0] }, 'two events swapped: the first one is named');

  const cut = original.findIndex(([, f]) => f.seal) + 1;
  const lastSealed = original.slice(0, original.length - 30);
  await rewrite(lastSealed);
  const inStream = await verify(store, publicKeys);
  const outside = await verify(store, publicKeys, { externalSeals: seals() });
  t.equal(outside.ok, false, 'a truncated tail is caught by the seals kept outside Redis (the log)');
  t.match(outside.firstBad?.problem, /missing \(sealed, then deleted or truncated\)/);
  t.ok(cut > 0 && inStream.events < events.length);

  await rewrite(original);
  t.equal((await verify(store, publicKeys, { externalSeals: seals() })).ok, true, 'the untouched trail verifies, with its outside seals');
});

t.test('archive: older entries go to daily NDJSON files that verify, then the stream is trimmed and still verifies', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'igate-audit-'));
  const before = (await raw()).length;
  const cutoff = Date.now() + 1; // everything so far
  const late = newLog();
  await new Promise((r) => setTimeout(r, 5));
  const result = await archive(store, publicKeys, { dir, before: cutoff, timeZone: 'Asia/Ho_Chi_Minh' });
  t.equal(result.verify.ok, true, JSON.stringify(result.verify.firstBad));
  t.equal(result.entries, before);
  t.equal(result.trimmed, before, 'trimmed only after export and verification');
  const files = await archiveFiles(dir);
  t.ok(files.length >= 1);
  t.match(files[0], /audit-\d{4}-\d{2}-\d{2}\.ndjson$/);
  const fromFiles = await verifyEntries(readArchive(files), publicKeys);
  t.equal(fromFiles.ok, true, 'the files verify on their own');
  t.equal(fromFiles.events, 10_000, 'every event is in the files');
  t.ok(Object.keys(await loadAnchors(store)).length >= 2, 'chain heads kept as anchors');
  await late.append({ event: 'login.finished', outcome: 'success' });
  await late.seal();
  const rest = await verify(store, publicKeys, { anchors: await loadAnchors(store) });
  t.equal(rest.ok, true, 'the trimmed stream still verifies');
  t.equal(rest.events, 1);
});

t.test('log injection: control characters and huge strings become one bounded, well-formed event (AL-06)', async (t) => {
  const l = newLog();
  await l.append({ event: 'login.refused', outcome: 'failure', reason: `evil\r\n{"event":"forged"}\u001b[31m${'x'.repeat(1_000_000)}`, userAgent: 'a\nb' });
  const last = (await raw()).at(-1)!;
  const e = JSON.parse(last[1].e!) as AuditEvent;
  t.notOk(/[\r\n]/.test(e.reason!) || e.reason!.includes(String.fromCharCode(27)), "no control characters");
  t.ok(e.reason!.length <= 121);
  t.equal(e.userAgent, 'a b');
  t.equal(createHash('sha256').update('x').digest('hex').length, 64);
});
