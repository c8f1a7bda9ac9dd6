import * as jose from 'jose';
import { isCa, keyUsageAllowsSigning, pkijs, taxCodesOf, x509 } from './pki.js';
import { ocspStatus, ocspUrls } from './ocsp.js';
import type { TrustStore } from './trust.js';

/**
 * Verification of a business's signature over its login challenge: CMS SignedData (detached or
 * attached, base64, as VNPT-CA / BkavCA plugins produce) or a compact JWS with `x5c` (VGCA-style).
 * The signature over exactly the challenge; the chain to a configured root; validity at signing
 * time and now; key usage; revocation by CRL; the MST in the certificate equal to the account's.
 */

export type SignatureFailure =
  | 'signature_challenge_expired' | 'signature_malformed' | 'signature_invalid' | 'signature_challenge_mismatch'
  | 'signature_untrusted' | 'signature_expired' | 'signature_not_yet_valid' | 'signature_revoked'
  | 'signature_revocation_unavailable' | 'signature_key_usage' | 'signature_mst_mismatch';

export interface CertificateInfo {
  serial: string;
  issuer: string;
  subject: string;
}

export class SignatureError extends Error {
  constructor(readonly reason: SignatureFailure, readonly certificate?: CertificateInfo, detail?: string) {
    super(`${reason}${detail ? `: ${detail}` : ''}`);
    this.name = 'SignatureError';
  }
}

export interface Proof {
  format: 'cms' | 'jws';
  /** base64 DER of a CMS ContentInfo, or a compact JWS. */
  signature: string;
}

export interface VerifyOptions {
  /** The challenge text the business had to sign. */
  expected: string;
  /** The account's tax code (from DVCQG): the certificate must name it. */
  taxCode: string;
  trust: TrustStore;
  now: number;
  revocationFailOpen: boolean;
  ocspTimeoutMs?: number | undefined;
  /** Is this signed content a challenge of this broker for another login? (its own reason) */
  isOtherChallenge: (content: string) => boolean;
}

export interface Verified {
  certificate: CertificateInfo;
  /** When the signature says it was made (CMS signingTime), else now. */
  signedAt: number;
}

const info = (c: x509.X509Certificate): CertificateInfo => ({ serial: c.serialNumber, issuer: c.issuer, subject: c.subject });

interface Signed {
  leaf: x509.X509Certificate;
  extra: x509.X509Certificate[];
  signedAt: number;
}

async function fromCms(b64: string, opts: VerifyOptions): Promise<Signed> {
  let sd: pkijs.SignedData;
  try {
    const ci = pkijs.ContentInfo.fromBER(Buffer.from(b64.replace(/\s/g, ''), 'base64'));
    if (ci.contentType !== pkijs.ContentInfo.SIGNED_DATA) throw new Error('not SignedData');
    sd = new pkijs.SignedData({ schema: ci.content });
  } catch (err) {
    throw new SignatureError('signature_malformed', undefined, (err as Error).message);
  }
  const expected = new TextEncoder().encode(opts.expected);
  const attached = sd.encapContentInfo.eContent?.getValue();
  const content = attached ? new Uint8Array(attached) : expected;
  const certs = (sd.certificates ?? []).filter((c): c is pkijs.Certificate => c instanceof pkijs.Certificate).map((c) => new x509.X509Certificate(c.toSchema().toBER(false)));
  let result: pkijs.SignedDataVerifyResult;
  try {
    result = await sd.verify({ signer: 0, data: attached ? undefined : content.slice().buffer, checkChain: false, extendedMode: true });
  } catch (err) {
    throw new SignatureError('signature_invalid', undefined, String((err as { message?: string }).message ?? err));
  }
  const signer = result.signerCertificate ? new x509.X509Certificate(result.signerCertificate.toSchema().toBER(false)) : undefined;
  if (!result.signatureVerified || !signer) throw new SignatureError('signature_invalid', signer && info(signer));
  if (attached) checkContent(new TextDecoder().decode(content), opts, signer);
  const signingTime = sd.signerInfos[0]?.signedAttrs?.attributes.find((a) => a.type === '1.2.840.113549.1.9.5')?.values[0];
  const signedAt = signingTime instanceof Object && 'toDate' in signingTime ? (signingTime as { toDate(): Date }).toDate().getTime() : opts.now;
  return { leaf: signer, extra: certs.filter((c) => c.serialNumber !== signer.serialNumber || c.issuer !== signer.issuer), signedAt };
}

async function fromJws(compact: string, opts: VerifyOptions): Promise<Signed> {
  let x5c: string[];
  let alg: string;
  try {
    const header = jose.decodeProtectedHeader(compact.trim());
    if (!Array.isArray(header.x5c) || header.x5c.length === 0 || typeof header.alg !== 'string') throw new Error('x5c and alg required');
    x5c = header.x5c;
    alg = header.alg;
  } catch (err) {
    throw new SignatureError('signature_malformed', undefined, (err as Error).message);
  }
  const certs = x5c.map((c) => new x509.X509Certificate(Buffer.from(c, 'base64')));
  const leaf = certs[0]!;
  let payload: Uint8Array;
  try {
    if (!['RS256', 'PS256', 'ES256', 'RS384', 'PS384', 'ES384'].includes(alg)) throw new Error(`algorithm ${alg} not accepted`);
    const key = await jose.importX509(leaf.toString('pem'), alg);
    ({ payload } = await jose.compactVerify(compact.trim(), key, { algorithms: [alg] }));
  } catch (err) {
    throw new SignatureError('signature_invalid', info(leaf), (err as Error).message);
  }
  checkContent(new TextDecoder().decode(payload), opts, leaf);
  return { leaf, extra: certs.slice(1), signedAt: opts.now };
}

function checkContent(content: string, opts: VerifyOptions, leaf: x509.X509Certificate) {
  if (content === opts.expected) return;
  throw new SignatureError(opts.isOtherChallenge(content) ? 'signature_challenge_mismatch' : 'signature_invalid', info(leaf), 'signed content is not this login\'s challenge');
}

/** leaf → … → trusted root, each link's signature checked. */
async function chainOf(leaf: x509.X509Certificate, extra: x509.X509Certificate[], trust: TrustStore): Promise<x509.X509Certificate[]> {
  const chain = [leaf];
  const pool = [...extra, ...trust.roots];
  for (let depth = 0; depth < 6; depth++) {
    const last = chain[chain.length - 1]!;
    if (trust.isRoot(last)) return chain;
    let issuer: x509.X509Certificate | undefined;
    for (const candidate of pool) {
      if (candidate.subject === last.issuer && candidate !== last && (await last.verify({ publicKey: candidate.publicKey, signatureOnly: true }))) {
        issuer = candidate;
        break;
      }
    }
    if (!issuer) throw new SignatureError('signature_untrusted', info(leaf), `no trusted issuer for "${last.issuer}" (untrusted root or missing intermediate)`);
    if (!isCa(issuer)) throw new SignatureError('signature_untrusted', info(leaf), `issuer "${issuer.subject}" is not a CA`);
    chain.push(issuer);
  }
  throw new SignatureError('signature_untrusted', info(leaf), 'chain too long');
}

export async function verifyProof(proof: Proof, opts: VerifyOptions): Promise<Verified> {
  const signed = proof.format === 'cms' ? await fromCms(proof.signature, opts) : await fromJws(proof.signature, opts);
  const { leaf } = signed;
  const chain = await chainOf(leaf, signed.extra, opts.trust);
  for (const cert of chain) {
    for (const at of [signed.signedAt, opts.now]) {
      if (at < cert.notBefore.getTime()) throw new SignatureError('signature_not_yet_valid', info(leaf), `${cert.subject} valid from ${cert.notBefore.toISOString()}`);
      if (at > cert.notAfter.getTime()) throw new SignatureError('signature_expired', info(leaf), `${cert.subject} expired ${cert.notAfter.toISOString()}`);
    }
  }
  if (!keyUsageAllowsSigning(leaf)) throw new SignatureError('signature_key_usage', info(leaf), 'key usage allows neither digitalSignature nor nonRepudiation');
  // Revocation of every certificate below the root: its issuer's CRL (configured) and OCSP (where the
  // certificate names a responder). Revoked by either: refused. Neither answers: fail closed unless configured open.
  for (let i = 0; i < chain.length - 1; i++) {
    const [cert, issuer] = [chain[i]!, chain[i + 1]!];
    const crl = await opts.trust.crlFor(issuer, opts.now);
    if (crl?.findRevoked(cert)) throw new SignatureError('signature_revoked', info(leaf), `${cert.subject} serial ${cert.serialNumber} is revoked (CRL)`);
    const ocsp = ocspUrls(cert).length ? await ocspStatus(cert, issuer, { timeoutMs: opts.ocspTimeoutMs ?? 5000, now: opts.now, above: chain.slice(i + 2) }) : 'unavailable';
    if (ocsp === 'revoked') throw new SignatureError('signature_revoked', info(leaf), `${cert.subject} serial ${cert.serialNumber} is revoked (OCSP)`);
    if (!crl && ocsp !== 'good' && !opts.revocationFailOpen) {
      throw new SignatureError('signature_revocation_unavailable', info(leaf), `no current CRL from "${issuer.subject}"${ocspUrls(cert).length ? ` and OCSP answered ${ocsp}` : ''}`);
    }
  }
  const codes = taxCodesOf(leaf);
  if (!codes.includes(opts.taxCode)) throw new SignatureError('signature_mst_mismatch', info(leaf), `certificate MST ${codes.join(', ') || '(none)'} ≠ account MST`);
  return { certificate: info(leaf), signedAt: signed.signedAt };
}
