import { readFile, writeFile } from 'node:fs/promises';
import type { RuntimeEnv } from '../config/env.js';
import { loadConfig } from '../config/load.js';
import { createAudit, type Audit } from '../audit/index.js';
import { archive, archiveFiles, loadAnchors, readArchive } from '../audit/archive.js';
import { toCsv, toTable } from '../audit/format.js';
import { query, sealsFromLog, stats, verify, verifyEntries, type AuditFilter } from '../audit/reader.js';
import { systemClock } from '../ops/clock.js';
import { createLogger } from '../ops/logger.js';
import { startOfLocalDay } from '../policy/index.js';
import { loadSigningKeys } from '../provider/keys.js';
import { openStore, type Store } from '../store/index.js';
import { parseArgs, UsageError } from './policy.js';

/**
 * `igate-broker audit query|export|verify|stats|archive` for auditors and operators. Every query
 * is itself audited (who: --auditor NAME or the login user; which filters, the national id hashed).
 */

type Args = ReturnType<typeof parseArgs>;
const str = (a: Args, k: string) => (typeof a.get(k) === 'string' ? (a.get(k) as string) : undefined);

function instant(v: string | undefined, tz: string, endOfDay = false): number | undefined {
  if (!v) return undefined;
  if (/^\d{4}-\d{2}-\d{2}$/.test(v)) return startOfLocalDay(v, tz) + (endOfDay ? 86_400_000 - 1 : 0);
  const t = Date.parse(v);
  if (Number.isNaN(t)) throw new UsageError(`not an ISO date or date-time: ${v}`);
  return t;
}

export function filterOf(a: Args, tz: string): AuditFilter {
  return {
    from: instant(str(a, 'from'), tz), to: instant(str(a, 'to'), tz, true), province: str(a, 'province'), client: str(a, 'client'),
    idp: str(a, 'idp'), accountType: str(a, 'account-type'), outcome: str(a, 'outcome'), event: str(a, 'event'), nationalId: str(a, 'national-id'),
  };
}

export function describeFilter(f: AuditFilter): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(f)) if (v !== undefined) out[k] = k === 'nationalId' ? '(hashed)' : String(v);
  return out;
}

export async function auditCommand(argv: string[], env: RuntimeEnv): Promise<{ out: string; code: number }> {
  const [sub, ...rest] = argv;
  const args = parseArgs(rest);
  const file = str(args, 'config') ?? env.configFile;
  if (!file) throw new UsageError('give --config FILE (or BROKER_CONFIG)');
  const cfg = await loadConfig(file, { production: env.production, vars: env.vars });
  const log = createLogger({ level: env.logLevel === 'info' ? 'warn' : env.logLevel });
  const store: Store = await openStore(cfg, { production: env.production, redisUrl: env.redisUrl, log });
  let audit: Audit | undefined;
  try {
    const keys = await loadSigningKeys(cfg.keys.signingJwks, { production: env.production, generateIfMissing: false });
    audit = await createAudit(cfg, { store, clock: systemClock, log, signingKeys: keys });
    const tz = cfg.policy.timezone;
    const filter = filterOf(args, tz);
    const auditor = str(args, 'auditor') ?? env.vars.USER ?? 'cli';
    const record = (what: string) => audit!.log.append({ event: 'audit.query', outcome: 'info', reason: what, detail: { auditor, via: 'cli', ...describeFilter(filter) } });
    switch (sub) {
      case 'query':
      case 'export': {
        const format = str(args, 'format') ?? (sub === 'query' ? 'table' : 'json');
        if (!['table', 'json', 'csv'].includes(format)) throw new UsageError('--format table|json|csv');
        const limit = sub === 'query' ? Number(str(args, 'limit') ?? 100) : Number.MAX_SAFE_INTEGER;
        const page = await query(store, audit.keys, filter, { limit, cursor: str(args, 'cursor') });
        await record(sub);
        const body = format === 'csv' ? toCsv(page.events) : format === 'json' ? `${JSON.stringify({ events: page.events, next: page.next ?? null }, null, 2)}\n` : toTable(page.events) + (page.next ? `(more: --cursor ${page.next})\n` : '');
        const outFile = str(args, 'out');
        if (outFile) {
          await writeFile(outFile, body, { mode: 0o640 });
          return { out: `${page.events.length} events written to ${outFile}\n`, code: 0 };
        }
        return { out: body, code: 0 };
      }
      case 'stats': {
        const s = await stats(store, audit.keys, filter, tz);
        await record('stats');
        if (args.has('json')) return { out: `${JSON.stringify(s, null, 2)}\n`, code: 0 };
        const lines = ['day         outcome  upstream  account type   count'];
        for (const [d, counts] of Object.entries(s.days).sort()) {
          for (const [k, n] of Object.entries(counts).sort()) {
            const [o, idp, type] = k.split('|');
            lines.push(`${d}  ${o!.padEnd(7)}  ${idp!.padEnd(8)}  ${type!.padEnd(13)}  ${n}`);
          }
        }
        lines.push('', 'refusals per rule:');
        for (const [d, rules] of Object.entries(s.denialsByRule).sort()) for (const [r, n] of Object.entries(rules)) lines.push(`${d}  ${r.padEnd(30)}  ${n}`);
        lines.push('', `step-up: ${Object.entries(s.stepUp).map(([k, n]) => `${k} ${n}`).join(', ') || '—'}`, `events: ${s.total}`);
        return { out: `${lines.join('\n')}\n`, code: 0 };
      }
      case 'verify': {
        const sealsFile = str(args, 'seals-from');
        const externalSeals = sealsFile ? sealsFromLog(await readFile(sealsFile, 'utf8')) : [];
        const dir = str(args, 'archive');
        const anchors = await loadAnchors(store);
        const r = dir ? await verifyEntries(readArchive(await archiveFiles(dir)), audit.publicKeys, { externalSeals }) : await verify(store, audit.publicKeys, { externalSeals, anchors });
        await record('verify');
        if (args.has('json')) return { out: `${JSON.stringify(r, null, 2)}\n`, code: r.ok ? 0 : 1 };
        const head = r.ok ? `OK: ${r.events} events in ${r.chains} chain(s), ${r.seals} seal(s) verified${externalSeals.length ? ` (${externalSeals.length} outside seals checked)` : ''}` : `TAMPERED: first bad entry ${r.firstBad!.id}${r.firstBad!.chain ? ` (chain ${r.firstBad!.chain}, seq ${r.firstBad!.seq})` : ''}: ${r.firstBad!.problem}`;
        return { out: `${[head, ...r.warnings.map((w) => `warning: ${w}`)].join('\n')}\n`, code: r.ok ? 0 : 1 };
      }
      case 'archive': {
        const dir = str(args, 'dir') ?? cfg.audit?.archiveDir ?? './audit-archive';
        const before = instant(str(args, 'before'), tz) ?? Date.now() - (cfg.audit?.retentionDays ?? 180) * 86_400_000;
        const r = await archive(store, audit.publicKeys, { dir, before, timeZone: tz });
        await record('archive');
        if (!r.verify.ok) return { out: `NOT TRIMMED: ${r.verify.firstBad?.problem} at ${r.verify.firstBad?.id}\n`, code: 1 };
        return { out: `${r.entries} entries archived to ${r.files.length} file(s), verified, ${r.trimmed} trimmed from the stream\n${r.files.join('\n')}${r.files.length ? '\n' : ''}`, code: 0 };
      }
      default:
        throw new UsageError('audit commands: query, export, verify, stats, archive');
    }
  } finally {
    await audit?.log.close();
    await store.close();
  }
}
