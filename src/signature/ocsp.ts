import { pkijs, x509 } from './pki.js';

/**
 * OCSP for certificates that name a responder (Authority Information Access): one request per
 * certificate, signed response verified against the issuer, answers cached until nextUpdate
 * (at most 10 minutes). Unreachable or unusable answers are `unavailable`: the caller decides.
 */
export type OcspStatus = 'good' | 'revoked' | 'unknown' | 'unavailable';

const cache = new Map<string, { status: OcspStatus; until: number }>();

export function ocspUrls(cert: x509.X509Certificate): string[] {
  const aia = cert.getExtension(x509.AuthorityInfoAccessExtension);
  return (aia?.ocsp ?? []).filter((g) => g.type === 'url' && /^https?:\/\//.test(g.value)).map((g) => g.value);
}

export async function ocspStatus(cert: x509.X509Certificate, issuer: x509.X509Certificate, opts: { timeoutMs: number; now: number; above?: x509.X509Certificate[] }): Promise<OcspStatus> {
  const url = ocspUrls(cert)[0];
  if (!url) return 'unavailable';
  const key = `${issuer.subject}|${cert.serialNumber}`;
  const hit = cache.get(key);
  if (hit && hit.until > Date.now()) return hit.status;
  try {
    const leaf = pkijs.Certificate.fromBER(cert.rawData);
    const ca = pkijs.Certificate.fromBER(issuer.rawData);
    const request = new pkijs.OCSPRequest();
    await request.createForCertificate(leaf, { hashAlgorithm: 'SHA-256', issuerCertificate: ca });
    const res = await fetch(url, {
      method: 'POST', headers: { 'content-type': 'application/ocsp-request', accept: 'application/ocsp-response' },
      body: Buffer.from(request.toSchema(true).toBER(false)), signal: AbortSignal.timeout(opts.timeoutMs),
    });
    if (!res.ok) return 'unavailable';
    const response = pkijs.OCSPResponse.fromBER(await res.arrayBuffer());
    if (response.responseStatus.valueBlock.valueDec !== 0 || !response.responseBytes) return 'unavailable';
    const basic = pkijs.BasicOCSPResponse.fromBER(response.responseBytes.response.valueBlock.valueHexView);
    // Signed by the issuing CA itself (or a responder it certified): its chain up to our trusted root.
    const anchors = [ca, ...(opts.above ?? []).map((c) => pkijs.Certificate.fromBER(c.rawData))];
    if (!(await basic.verify({ trustedCerts: anchors }))) return 'unavailable';
    const { isForCertificate, status } = await basic.getCertificateStatus(leaf, ca);
    if (!isForCertificate) return 'unavailable';
    const single = basic.tbsResponseData.responses[0];
    if (single && (single.thisUpdate.getTime() > opts.now + 300_000 || (single.nextUpdate && single.nextUpdate.getTime() < opts.now))) return 'unavailable';
    const result: OcspStatus = status === 0 ? 'good' : status === 1 ? 'revoked' : 'unknown';
    cache.set(key, { status: result, until: Math.min(Date.now() + 600_000, single?.nextUpdate?.getTime() ?? Date.now() + 600_000) });
    return result;
  } catch {
    return 'unavailable';
  }
}
