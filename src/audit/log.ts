import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Clock } from '../ops/clock.js';
import type { Logger } from '../ops/logger.js';
import type { Store } from '../store/store.js';
import { clean, eventHash, genesis, maskedOf, pseudonym, truncateIp, versionOf, type AuditEvent, type AuditInput, type PseudonymKey } from './event.js';

/**
 * The audit trail writer. Each broker instance keeps its own hash chain (`chain`, `seq`, `prev`,
 * `hash`), so instances never wait for each other; all chains go to one Redis Stream. Appends
 * that arrive while a write is in flight are written together in the next batch: one round trip,
 * auto-pipelined with the step's other writes. Every `sealEvery` events (and on a timer) the
 * instance appends a seal — its chain head signed with the broker's key (JWS) — and writes it to
 * the log too, so that a copy of the proof lives outside Redis. A failed write fails the step
 * (no login without its audit record) and the instance continues on a new chain.
 */

export const AUDIT_STREAM = 'audit:{events}';

export type SealSigner = (payload: { chain: string; seq: number; hash: string; at: string }) => Promise<string>;

export interface AuditSettings {
  keys: PseudonymKey[];
  ipTruncation: 'none' | 'network';
  sealEvery: number;
  sealIntervalMs: number;
}

interface Pending {
  input: AuditInput;
  resolve: () => void;
  reject: (err: unknown) => void;
}

export class AuditLog {
  private chain = '';
  private seq = 0;
  private prev = '';
  private sealedSeq = 0;
  private queue: Pending[] = [];
  private writing = false;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly store: Store,
    private readonly settings: AuditSettings,
    private readonly sign: SealSigner,
    private readonly log: Logger,
    private readonly clock: Clock,
  ) {
    this.newChain();
    this.timer = setInterval(() => void this.seal().catch(() => undefined), settings.sealIntervalMs);
    this.timer.unref();
  }

  get chainId(): string {
    return this.chain;
  }

  private newChain() {
    this.chain = `${hostname().replace(/[^A-Za-z0-9-]/g, '').slice(0, 20)}-${randomBytes(6).toString('hex')}`;
    this.seq = 0;
    this.prev = genesis(this.chain);
    this.sealedSeq = 0;
  }

  append(input: AuditInput): Promise<void> {
    return new Promise((resolve, reject) => {
      this.queue.push({ input, resolve, reject });
      void this.flush();
    });
  }

  private build(input: AuditInput): AuditEvent {
    const { person, ...rest } = input;
    const base = {
      ...rest,
      v: versionOf(input.event),
      time: new Date(this.clock.now()).toISOString(),
      reason: clean(rest.reason, 120),
      userAgent: clean(rest.userAgent, 256),
      ip: truncateIp(rest.ip, this.settings.ipTruncation),
      subject: rest.subject ?? (person ? pseudonym(this.settings.keys[0]!, person) : undefined),
      maskedId: rest.maskedId ?? (person ? maskedOf(person) : undefined),
      accountType: rest.accountType ?? person?.accountType,
      chain: this.chain,
      seq: this.seq + 1,
      prev: this.prev,
    };
    const event = { ...base, hash: eventHash(base) };
    this.seq = event.seq;
    this.prev = event.hash;
    return event;
  }

  private async flush() {
    if (this.writing) return;
    this.writing = true;
    while (this.queue.length) {
      const batch = this.queue.splice(0);
      const events = batch.map((p) => this.build(p.input));
      try {
        await Promise.all(events.map((e) => this.store.streamAdd(AUDIT_STREAM, { e: JSON.stringify(e) })));
        for (const e of events) this.log.info({ audit: e }, `audit ${e.event}`);
        batch.forEach((p) => p.resolve());
        if (this.seq - this.sealedSeq >= this.settings.sealEvery) await this.sealHead().catch(() => undefined);
      } catch (err) {
        // The written prefix of this chain stays valid; what follows goes to a new chain.
        this.log.error({ err: { message: (err as Error).message }, chain: this.chain }, 'audit write failed: the step fails');
        this.newChain();
        batch.forEach((p) => p.reject(err));
      }
    }
    this.writing = false;
  }

  /** Sign and append this chain's head (if it moved since the last seal); not while a batch is being written. */
  async seal(): Promise<void> {
    if (this.writing) return;
    await this.sealHead();
  }

  private async sealHead(): Promise<void> {
    if (this.seq === this.sealedSeq) return;
    const payload = { chain: this.chain, seq: this.seq, hash: this.prev, at: new Date(this.clock.now()).toISOString() };
    const jws = await this.sign(payload);
    await this.store.streamAdd(AUDIT_STREAM, { seal: jws });
    this.sealedSeq = payload.seq;
    this.log.info({ auditSeal: jws, chain: payload.chain, seq: payload.seq }, 'audit seal');
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.seal().catch(() => undefined);
  }
}
