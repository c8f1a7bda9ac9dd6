import { appendFile, mkdir, readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type * as jose from 'jose';
import type { Store } from '../store/store.js';
import { AUDIT_STREAM } from './log.js';
import { entries, verifyEntries, type Anchors, type VerifyResult } from './reader.js';

/**
 * Retention: entries older than the cutoff are written to one NDJSON file per day (events and
 * seals, in stream order), the written files are verified from the previous anchors, and only
 * then is the stream trimmed. The chain heads at the cut become the new anchors, so that the
 * remaining stream still verifies. Nothing is trimmed that was not exported and verified.
 */

const ANCHORS = 'audit:{anchors}';
const ANCHOR_TTL = 20 * 365 * 86_400;

export async function loadAnchors(store: Store): Promise<Anchors> {
  const raw = await store.get(ANCHORS);
  return raw ? (JSON.parse(raw) as Anchors) : {};
}

export interface ArchiveResult {
  files: string[];
  entries: number;
  trimmed: number;
  verify: VerifyResult;
}

export async function archive(store: Store, publicKeys: jose.JWK[], opts: { dir: string; before: number; timeZone: string }): Promise<ArchiveResult> {
  const day = new Intl.DateTimeFormat('en-CA', { timeZone: opts.timeZone, year: 'numeric', month: '2-digit', day: '2-digit' });
  const old: [string, Record<string, string>][] = [];
  for await (const entry of entries(store, '-', `(${opts.before}`)) old.push(entry);
  const anchors = await loadAnchors(store);
  const check = await verifyEntries(old, publicKeys, { anchors });
  if (!check.ok) return { files: [], entries: old.length, trimmed: 0, verify: check };
  await mkdir(opts.dir, { recursive: true });
  const byDay = new Map<string, string[]>();
  for (const [id, fields] of old) {
    const d = day.format(new Date(Number(id.split('-')[0])));
    const line = JSON.stringify(fields.seal ? { id, seal: fields.seal } : { id, e: JSON.parse(fields.e ?? 'null') as unknown });
    byDay.set(d, [...(byDay.get(d) ?? []), line]);
  }
  const files: string[] = [];
  for (const [d, lines] of byDay) {
    const file = join(opts.dir, `audit-${d}.ndjson`);
    await appendFile(file, `${lines.join('\n')}\n`, { mode: 0o640 });
    files.push(file);
  }
  // The files as written must verify, from the same anchors, before anything is trimmed.
  const fromFiles = await verifyEntries(readArchive(files, new Set(old.map(([id]) => id))), publicKeys, { anchors });
  if (!fromFiles.ok || fromFiles.events !== check.events) return { files, entries: old.length, trimmed: 0, verify: fromFiles };
  await store.set(ANCHORS, JSON.stringify({ ...anchors, ...check.heads }), ANCHOR_TTL);
  const trimmed = old.length ? await store.streamTrim(AUDIT_STREAM, String(opts.before)) : 0;
  return { files, entries: old.length, trimmed, verify: fromFiles };
}

/** Entries of archive files (optionally only the given ids), in file order. */
export async function* readArchive(files: string[], only?: Set<string>): AsyncGenerator<[string, Record<string, string>]> {
  for (const file of files) {
    for (const line of (await readFile(file, 'utf8')).split('\n')) {
      if (!line.trim()) continue;
      const o = JSON.parse(line) as { id: string; e?: unknown; seal?: string };
      if (only && !only.has(o.id)) continue;
      yield [o.id, o.seal ? { seal: o.seal } : { e: JSON.stringify(o.e) }];
    }
  }
}

export async function archiveFiles(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((f) => /^audit-\d{4}-\d{2}-\d{2}\.ndjson$/.test(f)).sort().map((f) => join(dir, f));
}
