import { readFile } from 'node:fs/promises';
import type { RuntimeEnv } from '../config/env.js';
import { parseArgs, UsageError } from './policy.js';

/**
 * Development helpers: `igate-broker dev ca --out DIR` writes a test CA (root, issuing CA, CRLs,
 * one certificate per test business); `igate-broker dev sign --ca DIR --mst MST --challenge-file F
 * [--format cms|jws] [--detached]` prints the signature a business's signing plugin would return.
 * Refused in production; the PKI code is loaded only here.
 */
export async function devCommand(argv: string[], env: RuntimeEnv): Promise<string> {
  if (env.production) throw new UsageError('dev commands are refused with NODE_ENV=production');
  const [sub, ...rest] = argv;
  const args = parseArgs(rest);
  const pki = await import('../dev/pki.js');
  if (sub === 'ca') {
    const out = args.get('out');
    if (typeof out !== 'string') throw new UsageError('dev ca needs --out DIR');
    const { simAccounts } = await import('../dev/accounts.js');
    const businesses = simAccounts().dvcqg.concat(simAccounts().vneid)
      .filter((a) => typeof a.claims.MaSoThue === 'string' || typeof a.claims.MaSoDoanhNghiep === 'string')
      .map((a) => ({ mst: a.username, name: String(a.claims.TenDoanhNghiep ?? a.label) }));
    const files = await pki.writeDevCa(out, [...new Map(businesses.map((b) => [b.mst, b])).values()]);
    return `${files.join('\n')}\n`;
  }
  if (sub === 'sign') {
    const ca = args.get('ca');
    const mst = args.get('mst');
    const file = args.get('challenge-file');
    if (typeof ca !== 'string' || typeof mst !== 'string' || typeof file !== 'string') throw new UsageError('dev sign needs --ca DIR --mst MST --challenge-file FILE');
    const s = await pki.loadDevSigner(ca, mst);
    if (!s) throw new UsageError(`no dev certificate for MST ${mst} in ${ca}`);
    const content = await readFile(file, 'utf8');
    const signature = args.get('format') === 'jws'
      ? await pki.signJws(content, s.signer, s.chain)
      : await pki.signCms(content, s.signer, s.chain, { detached: args.has('detached') });
    return `${signature}\n`;
  }
  throw new UsageError('dev commands: ca, sign');
}
