// One place that loads the PKI libraries with Node's WebCrypto (STACK.md §4: reflect polyfill first).
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import * as pkijs from 'pkijs';

// Node's webcrypto is the same API as the DOM's Crypto these libraries are typed against.
type DomCrypto = Parameters<typeof x509.cryptoProvider.set>[0];
const crypto = webcrypto as unknown as DomCrypto;
x509.cryptoProvider.set(crypto);
pkijs.setEngine('node', new pkijs.CryptoEngine({ name: 'node', crypto }));

export { x509, pkijs };

/** OID of the UID attribute where Vietnamese CAs put `MST:0313994173` (UPSTREAMS.md). */
export const UID_OID = '0.9.2342.19200300.100.1.1';

/** Tax codes a certificate names in its UID attributes (`MST:…`, bare values), normalised. */
export function taxCodesOf(cert: x509.X509Certificate): string[] {
  const out: string[] = [];
  for (const raw of cert.subjectName.getField(UID_OID)) {
    const m = /^(?:MST:)?\s*(\d{10})(?:-?(\d{3}))?$/i.exec(raw.trim());
    if (m && (/^MST:/i.test(raw.trim()) || !/^(CCCD|CMND|MNS):/i.test(raw.trim()))) out.push(m[2] ? `${m[1]}-${m[2]}` : m[1]!);
  }
  return out;
}

export function keyUsageAllowsSigning(cert: x509.X509Certificate): boolean {
  const ku = cert.getExtension(x509.KeyUsagesExtension);
  if (!ku) return true; // no restriction stated
  return (ku.usages & (x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.nonRepudiation)) !== 0;
}

export function isCa(cert: x509.X509Certificate): boolean {
  return cert.getExtension(x509.BasicConstraintsExtension)?.ca === true;
}

export function pemCertificates(text: string): x509.X509Certificate[] {
  return (text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? []).map((p) => new x509.X509Certificate(p));
}
