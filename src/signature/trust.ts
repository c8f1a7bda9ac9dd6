import { readFile } from 'node:fs/promises';
import type { Logger } from '../ops/logger.js';
import { pemCertificates, x509 } from './pki.js';

/**
 * Trust anchors and revocation lists: root certificates from PEM files (the Vietnam National
 * Root CA, the Government's own root, or the dev test CA in development), CRLs from files or
 * URLs, cached until their nextUpdate (or the refresh interval), fetched with a timeout.
 */
export interface TrustSettings {
  trustedRoots: string[];
  crls: string[];
  crlRefreshSeconds: number;
  crlTimeoutMs: number;
}

interface CachedCrl {
  crl: x509.X509Crl;
  fetchedAt: number;
  /** Issuers (subject and serial) whose key verified this CRL: checked once, not per signature. */
  verifiedFor: Set<string>;
}

export class TrustStore {
  private crls = new Map<string, CachedCrl>();

  private constructor(readonly roots: x509.X509Certificate[], private readonly settings: TrustSettings, private readonly log: Logger) {}

  static async load(settings: TrustSettings, log: Logger): Promise<TrustStore> {
    const roots: x509.X509Certificate[] = [];
    for (const file of settings.trustedRoots) {
      const certs = pemCertificates(await readFile(file, 'utf8'));
      if (certs.length === 0) throw new Error(`signature.trustedRoots: ${file} holds no PEM certificate`);
      roots.push(...certs);
    }
    const store = new TrustStore(roots, settings, log);
    await store.refresh().catch(() => undefined); // an unreachable CRL at start is retried on use
    return store;
  }

  isRoot(cert: x509.X509Certificate): boolean {
    return this.roots.some((r) => Buffer.from(r.rawData).equals(Buffer.from(cert.rawData)));
  }

  /** Reload every CRL source; failures are logged and keep the previous copy. */
  async refresh(): Promise<void> {
    await Promise.all(this.settings.crls.map(async (source) => {
      try {
        const crl = new x509.X509Crl(await this.fetch(source));
        this.crls.set(source, { crl, fetchedAt: Date.now(), verifiedFor: new Set() });
      } catch (err) {
        this.log.warn({ source, err: { message: (err as Error).message } }, 'CRL could not be loaded');
        throw err;
      }
    }));
  }

  private async fetch(source: string): Promise<ArrayBuffer | string> {
    if (/^https?:\/\//.test(source)) {
      const res = await fetch(source, { signal: AbortSignal.timeout(this.settings.crlTimeoutMs) });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      return res.arrayBuffer();
    }
    const data = await readFile(source);
    const text = data.toString('latin1');
    return text.includes('-----BEGIN X509 CRL-----') ? text : data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength);
  }

  /**
   * The current CRL signed by `issuer`, or undefined when none is known or it could not be
   * refreshed once stale (the caller decides fail-open or fail-closed).
   */
  async crlFor(issuer: x509.X509Certificate, now: number): Promise<x509.X509Crl | undefined> {
    const stale = (c: CachedCrl) => (c.crl.nextUpdate ? c.crl.nextUpdate.getTime() < now : false) || Date.now() - c.fetchedAt > this.settings.crlRefreshSeconds * 1000;
    if ([...this.crls.values()].some(stale) || this.crls.size < this.settings.crls.length) await this.refresh().catch(() => undefined);
    for (const c of this.crls.values()) {
      if (c.crl.issuer !== issuer.subject || stale(c)) continue;
      const who = `${issuer.subject}|${issuer.serialNumber}`;
      if (!c.verifiedFor.has(who)) {
        if (!(await c.crl.verify({ publicKey: issuer.publicKey }))) continue;
        c.verifiedFor.add(who);
      }
      return c.crl;
    }
    return undefined;
  }
}
