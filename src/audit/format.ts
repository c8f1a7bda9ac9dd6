import type { AuditEvent } from './event.js';

/** Output formats for auditors: CSV (RFC 4180, formula-safe), and a fixed-width table. */

export const COLUMNS = ['time', 'event', 'outcome', 'reason', 'client', 'province', 'idp', 'accountType', 'maskedId', 'subject', 'rule', 'policyVersion', 'acr', 'amr', 'ip', 'requestId', 'interactionId', 'chain', 'seq'] as const;

function cell(e: AuditEvent, c: (typeof COLUMNS)[number]): string {
  const v = e[c];
  return Array.isArray(v) ? v.join(' ') : v === undefined ? '' : String(v);
}

export function toCsv(events: AuditEvent[], header = true): string {
  const esc = (s: string) => {
    const safe = /^[=+\-@\t\r]/.test(s) ? `'${s}` : s; // spreadsheet formula injection
    return /[",\n\r]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
  };
  const lines = events.map((e) => COLUMNS.map((c) => esc(cell(e, c))).join(','));
  return `${header ? `${COLUMNS.join(',')}\n` : ''}${lines.join('\n')}${lines.length ? '\n' : ''}`;
}

export function toTable(events: AuditEvent[]): string {
  const cols = ['time', 'event', 'outcome', 'reason', 'client', 'idp', 'accountType', 'maskedId', 'rule'] as const;
  const rows = events.map((e) => cols.map((c) => cell(e, c)));
  const widths = cols.map((c, i) => Math.min(40, Math.max(c.length, ...rows.map((r) => r[i]!.length))));
  const fmt = (r: string[]) => r.map((v, i) => v.slice(0, 40).padEnd(widths[i]!)).join('  ').trimEnd();
  return [fmt([...cols]), fmt(widths.map((w) => '-'.repeat(w))), ...rows.map(fmt)].join('\n') + '\n';
}
