import { unwatchFile, watchFile } from 'node:fs';
import { ConfigError, loadConfig, type LoadOptions } from './load.js';
import type { BrokerConfig, PolicyConfig } from './schema.js';

/**
 * Hot reload of the policy: when the config file (or its policyFile) changes, or on SIGHUP,
 * the whole file is loaded and validated again; a valid policy replaces the one in force
 * for the next decision, an invalid file is rejected with its errors and changes nothing.
 * Other sections need a restart (a warning says so).
 */

export interface ReloadTarget {
  /** Install a new policy; returns its version. */
  setPolicy(policy: PolicyConfig): { version: string };
  policyVersion(): string;
}

export interface ReloadLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export type ReloadResult = 'reloaded' | 'unchanged' | 'rejected';

function withoutPolicy(cfg: BrokerConfig): string {
  const { policy: _p, policyFile: _f, ...rest } = cfg;
  return JSON.stringify(rest);
}

export class PolicyReloader {
  private running: Promise<ReloadResult> | undefined;
  private readonly watched: string[] = [];
  private readonly onSignal = () => void this.reload('SIGHUP');

  constructor(
    private readonly file: string,
    private readonly opts: LoadOptions,
    private readonly target: ReloadTarget,
    private readonly current: BrokerConfig,
    private readonly log: ReloadLog,
    /** Told of every reload attempt (the audit trail records them). */
    private readonly onResult: (r: { result: ReloadResult; trigger: string; version: string; previous: string }) => Promise<void> = async () => {},
  ) {}

  /** Reload now; concurrent triggers share one load. */
  reload(trigger: string): Promise<ReloadResult> {
    this.running ??= this.load(trigger).finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async load(trigger: string): Promise<ReloadResult> {
    const previous = this.target.policyVersion();
    let next: BrokerConfig;
    try {
      next = await loadConfig(this.file, this.opts);
    } catch (err) {
      const issues = err instanceof ConfigError ? err.issues : [{ path: '(file)', message: (err as Error).message }];
      this.log.error({ trigger, file: this.file, issues, policyVersion: previous }, 'config reload rejected: the policy in force is kept');
      await this.onResult({ result: 'rejected', trigger, version: previous, previous }).catch(() => undefined);
      return 'rejected';
    }
    if (withoutPolicy(next) !== withoutPolicy(this.current)) {
      this.log.warn({ trigger, file: this.file }, 'config changed outside the policy: those changes take effect after a restart');
    }
    const { version } = this.target.setPolicy(next.policy);
    if (version === previous) return 'unchanged';
    this.log.info({ trigger, file: this.file, policyVersion: version, previousVersion: previous }, 'policy reloaded');
    await this.onResult({ result: 'reloaded', trigger, version, previous }).catch(() => undefined);
    return 'reloaded';
  }

  /** Watch the files (polling: robust to editors that replace files and to mounted ConfigMaps) and SIGHUP. */
  start(intervalMs = 1000): this {
    for (const f of [this.file, this.current.policyFile].filter((f): f is string => Boolean(f))) {
      watchFile(f, { interval: intervalMs, persistent: false }, (now, before) => {
        if (now.mtimeMs !== before.mtimeMs || now.size !== before.size) void this.reload(`file changed: ${f}`);
      });
      this.watched.push(f);
    }
    process.on('SIGHUP', this.onSignal);
    return this;
  }

  stop(): void {
    for (const f of this.watched.splice(0)) unwatchFile(f);
    process.off('SIGHUP', this.onSignal);
  }
}
