import { createHash } from 'node:crypto';
import { ACCOUNT_TYPES, METHOD_PATTERN, type AccountType, type PolicyConfig } from '../config/schema.js';
import { startOfLocalDay } from './time.js';

/** The policy compiled from configuration: methods parsed, phase dates turned into instants. */

export interface Method {
  /** As written in the config, e.g. `vneid:level2`, `dvcqg+signature`. */
  raw: string;
  idp: string;
  minLevel: number;
  signature: boolean;
  otp: boolean;
}

export interface Localized {
  vi: string;
  en?: string | undefined;
}

export interface Phase {
  /** `dak-nong#2`: province and 1-based phase number, stable while the file keeps its order. */
  id: string;
  province: string;
  from: string;
  until?: string | undefined;
  startsAt: number;
  /** Exclusive end: the start of the next phase, or of the day after `until`. */
  endsAt?: number | undefined;
  methods: Record<AccountType, Method[]>;
  /** True when the phase gives no organization list (organisations follow the business rule). */
  organizationFromBusiness: boolean;
  message?: Localized | undefined;
  source?: string | undefined;
}

export interface ProvincePolicy {
  id: string;
  name: string;
  reportOnly: boolean;
  phases: Phase[];
}

export interface Policy {
  timezone: string;
  noticeDays: number;
  default?: ProvincePolicy | undefined;
  provinces: ReadonlyMap<string, ProvincePolicy>;
  /** Hash of the canonical form: recorded with every decision. */
  version: string;
}

export const DEFAULT_PROVINCE = 'default';

export function parseMethod(raw: string): Method {
  const m = METHOD_PATTERN.exec(raw);
  if (!m) throw new Error(`invalid method ${raw}`);
  const flags = m[3] ?? '';
  return { raw, idp: m[1]!, minLevel: m[2] ? Number(m[2]) : 0, signature: flags.includes('+signature'), otp: flags.includes('+otp') };
}

function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value).sort().map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

export function policyVersion(cfg: PolicyConfig): string {
  return createHash('sha256').update(canonical(cfg)).digest('hex').slice(0, 16);
}

type ProvinceConfig = NonNullable<PolicyConfig['default']>;

function compileProvince(id: string, p: ProvinceConfig, timezone: string): ProvincePolicy {
  const phases = p.phases.map((ph, i): Phase => {
    const startsAt = startOfLocalDay(ph.from, timezone);
    const nextFrom = p.phases[i + 1]?.from;
    const untilEnd = ph.until ? startOfLocalDay(ph.until, timezone) + 86_400_000 : undefined;
    const nextStart = nextFrom ? startOfLocalDay(nextFrom, timezone) : undefined;
    const endsAt = untilEnd !== undefined && nextStart !== undefined ? Math.min(untilEnd, nextStart) : (untilEnd ?? nextStart);
    const business = (ph.business ?? []).map(parseMethod);
    return {
      id: `${id}#${i + 1}`,
      province: id,
      from: ph.from,
      until: ph.until,
      startsAt,
      endsAt,
      methods: {
        citizen: (ph.citizen ?? []).map(parseMethod),
        business,
        organization: ph.organization ? ph.organization.map(parseMethod) : business,
      },
      organizationFromBusiness: !ph.organization,
      message: ph.message,
      source: ph.source,
    };
  });
  return { id, name: p.name ?? id, reportOnly: p.reportOnly, phases };
}

/** Compile a validated policy section (the config schema has checked order, upstreams, syntax). */
export function compilePolicy(cfg: PolicyConfig): Policy {
  return {
    timezone: cfg.timezone,
    noticeDays: cfg.noticeDays,
    default: cfg.default ? compileProvince(DEFAULT_PROVINCE, cfg.default, cfg.timezone) : undefined,
    provinces: new Map(Object.entries(cfg.provinces).map(([id, p]) => [id, compileProvince(id, p, cfg.timezone)])),
    version: policyVersion(cfg),
  };
}

export { ACCOUNT_TYPES };
