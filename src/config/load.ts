import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { parseDocument } from 'yaml';
import type { z } from 'zod';
import { configSchema, policyFileSchema, type BrokerConfig, type PolicyConfig } from './schema.js';

export interface ConfigIssue {
  path: string;
  message: string;
}

export class ConfigError extends Error {
  constructor(readonly file: string, readonly issues: ConfigIssue[]) {
    super(`${file}: invalid configuration\n${issues.map((i) => `  ${i.path}: ${i.message}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

export interface LoadOptions {
  production: boolean;
  vars: Readonly<Record<string, string | undefined>>;
}

/** `${VAR}` and `${VAR:-default}` from the environment; a missing variable is an error with its path. */
export function interpolate(value: unknown, vars: LoadOptions['vars'], path: (string | number)[] = [], issues: ConfigIssue[] = []): unknown {
  if (typeof value === 'string') {
    return value.replace(/\$\{([A-Z0-9_]+)(?::-([^}]*))?\}/gi, (_m, name: string, fallback: string | undefined) => {
      const v = vars[name];
      if (v !== undefined && v !== '') return v;
      if (fallback !== undefined) return fallback;
      issues.push({ path: formatPath(path), message: `environment variable ${name} is not set` });
      return '';
    });
  }
  if (Array.isArray(value)) return value.map((v, i) => interpolate(v, vars, [...path, i], issues));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, interpolate(v, vars, [...path, k], issues)]));
  }
  return value;
}

export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`;
    else out += out ? `.${String(p)}` : String(p);
  }
  return out || '(root)';
}

export function issuesOf(error: z.ZodError): ConfigIssue[] {
  return error.issues.map((i) => ({ path: formatPath(i.path), message: i.message }));
}

function parseYaml(text: string, file: string): unknown {
  const doc = parseDocument(text, { prettyErrors: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(file, doc.errors.map((e) => ({ path: `line ${e.linePos?.[0]?.line ?? '?'}`, message: e.message.split('\n')[0] ?? e.message })));
  }
  return doc.toJS();
}

function validate(raw: unknown, file: string, opts: LoadOptions): BrokerConfig {
  const issues: ConfigIssue[] = [];
  const interpolated = interpolate(raw, opts.vars, [], issues);
  const parsed = configSchema({ production: opts.production }).safeParse(interpolated);
  if (!parsed.success) issues.push(...issuesOf(parsed.error));
  if (issues.length > 0 || !parsed.success) throw new ConfigError(file, issues);
  return parsed.data;
}

/** Parse YAML text into a validated config (policy inline), or throw ConfigError listing every problem. */
export function parseConfig(text: string, file: string, opts: LoadOptions): BrokerConfig {
  return validate(parseYaml(text, file), file, opts);
}

async function read(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    throw new ConfigError(file, [{ path: '(file)', message: `cannot read: ${(err as NodeJS.ErrnoException).code ?? String(err)}` }]);
  }
}

/**
 * Load and validate a config file. `policyFile: ./policy.vn.yaml` (relative to the config
 * file) keeps the policy in its own file; it is read here and validated as `policy`.
 */
export async function loadConfig(file: string, opts: LoadOptions): Promise<BrokerConfig> {
  const raw = parseYaml(await read(file), file);
  if (raw && typeof raw === 'object' && 'policyFile' in raw && typeof raw.policyFile === 'string') {
    if ('policy' in raw) throw new ConfigError(file, [{ path: 'policyFile', message: 'give either policy or policyFile, not both' }]);
    const policyPath = resolve(dirname(file), raw.policyFile);
    (raw as Record<string, unknown>).policyFile = policyPath;
    (raw as Record<string, unknown>).policy = parseYaml(await read(policyPath), policyPath);
  }
  return validate(raw, file, opts);
}

/** A policy file on its own (`igate-broker policy … --policy FILE`). */
export async function loadPolicyFile(file: string, opts: LoadOptions): Promise<PolicyConfig> {
  const raw = parseYaml(await read(file), file);
  const issues: ConfigIssue[] = [];
  const interpolated = interpolate(raw, opts.vars, [], issues);
  const parsed = policyFileSchema(opts).safeParse(interpolated);
  if (!parsed.success) issues.push(...issuesOf(parsed.error));
  if (issues.length > 0 || !parsed.success) throw new ConfigError(file, issues);
  return parsed.data;
}
