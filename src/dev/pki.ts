import { webcrypto } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as asn1js from 'asn1js';
import * as jose from 'jose';
import { pkijs, UID_OID, x509 } from '../signature/pki.js';

/**
 * A test PKI shaped like Vietnam's: a root, an issuing CA, and business certificates with the MST
 * in a UID attribute (`UID=MST:0313994173`), plus CRLs; and the signers a business's plugin would
 * be (CMS attached/detached, JWS with x5c). Development and tests only: the root says so.
 */

export const DEV_ROOT_MARK = 'igate-sso-broker TEST Root CA (development only)';

const ALG = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256', publicExponent: new Uint8Array([1, 0, 1]), modulusLength: 2048 } as const;
type Keys = { publicKey: webcrypto.CryptoKey; privateKey: webcrypto.CryptoKey };
// @peculiar/x509 and pkijs are typed against the DOM's CryptoKey: Node's is the same object.
type DomKey = Parameters<typeof x509.X509CertificateGenerator.create>[0] extends { signingKey: infer K } ? K : never;
const dom = (k: webcrypto.CryptoKey) => k as unknown as DomKey;

async function keys(): Promise<Keys> {
  return (await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify'])) as Keys;
}

export interface Issued {
  cert: x509.X509Certificate;
  keys: Keys;
}

export interface IssueOptions {
  mst?: string;
  cn?: string;
  notBefore?: Date;
  notAfter?: Date;
  keyUsage?: number;
  issuer?: Issued;
  ca?: boolean;
  serial?: string;
  /** Name an OCSP responder (Authority Information Access). */
  ocspUrl?: string;
}

let serialCounter = 0x1000;

export class TestPki {
  private constructor(readonly root: Issued, readonly issuing: Issued) {}

  static async create(name = DEV_ROOT_MARK): Promise<TestPki> {
    const rootKeys = await keys();
    const root = await x509.X509CertificateGenerator.createSelfSigned({
      serialNumber: '01', name: `CN=${name}, O=igate-sso-broker, C=VN`, notBefore: new Date('2020-01-01'), notAfter: new Date('2045-01-01'),
      keys: { publicKey: dom(rootKeys.publicKey), privateKey: dom(rootKeys.privateKey) }, signingAlgorithm: ALG,
      extensions: [new x509.BasicConstraintsExtension(true, 1, true), new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true)],
    });
    const rootIssued = { cert: root, keys: rootKeys };
    const pki = new TestPki(rootIssued, rootIssued);
    const issuing = await pki.issue({ cn: `${name.replace('Root', 'Issuing')}`, ca: true, issuer: rootIssued, notBefore: new Date('2020-01-01'), notAfter: new Date('2040-01-01') });
    return new TestPki(rootIssued, issuing);
  }

  /** A certificate from the issuing CA (or `issuer`), with the MST where Vietnamese CAs put it. */
  async issue(o: IssueOptions = {}): Promise<Issued> {
    const k = await keys();
    const issuer = o.issuer ?? this.issuing;
    const subject = [`CN=${o.cn ?? 'CONG TY TNHH THU NGHIEM'}`, ...(o.mst ? [`${UID_OID}=MST:${o.mst}`] : []), 'ST=Lam Dong', 'C=VN'].join(', ');
    const cert = await x509.X509CertificateGenerator.create({
      serialNumber: o.serial ?? (serialCounter++).toString(16),
      subject, issuer: issuer.cert.subject,
      notBefore: o.notBefore ?? new Date(Date.now() - 86_400_000), notAfter: o.notAfter ?? new Date(Date.now() + 2 * 365 * 86_400_000),
      signingKey: dom(issuer.keys.privateKey), publicKey: dom(k.publicKey), signingAlgorithm: ALG,
      extensions: o.ca
        ? [new x509.BasicConstraintsExtension(true, 0, true), new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true)]
        : [new x509.BasicConstraintsExtension(false, undefined, true), new x509.KeyUsagesExtension(o.keyUsage ?? (x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.nonRepudiation), true),
          ...(o.ocspUrl ? [new x509.AuthorityInfoAccessExtension({ ocsp: [new x509.GeneralName('url', o.ocspUrl)] })] : [])],
    });
    return { cert, keys: k };
  }

  /** The issuing CA's CRL (PEM), revoking the given certificates. */
  async crl(revoked: x509.X509Certificate[] = [], issuer: Issued = this.issuing, nextUpdateMs = 7 * 86_400_000): Promise<string> {
    const crl = await x509.X509CrlGenerator.create({
      issuer: issuer.cert.subject, thisUpdate: new Date(Date.now() - 60_000), nextUpdate: new Date(Date.now() + nextUpdateMs),
      entries: revoked.map((c) => ({ serialNumber: c.serialNumber, revocationDate: new Date(Date.now() - 60_000), reason: x509.X509CrlReason.keyCompromise })),
      signingKey: dom(issuer.keys.privateKey), signingAlgorithm: ALG,
    });
    return crl.toString('pem');
  }
}

/** CMS SignedData over `content`, as a signing plugin returns it (base64). */
export async function signCms(content: string, signer: Issued, chain: x509.X509Certificate[], opts: { detached: boolean }): Promise<string> {
  const data = new TextEncoder().encode(content);
  const cert = pkijs.Certificate.fromBER(signer.cert.rawData);
  const sd = new pkijs.SignedData({
    version: 1,
    encapContentInfo: new pkijs.EncapsulatedContentInfo({ eContentType: '1.2.840.113549.1.7.1' }),
    signerInfos: [new pkijs.SignerInfo({ version: 1, sid: new pkijs.IssuerAndSerialNumber({ issuer: cert.issuer, serialNumber: cert.serialNumber }) })],
    certificates: [cert, ...chain.map((c) => pkijs.Certificate.fromBER(c.rawData))],
  });
  await sd.sign(dom(signer.keys.privateKey) as never, 0, 'SHA-256', data.slice().buffer);
  if (!opts.detached) sd.encapContentInfo.eContent = new asn1js.OctetString({ valueHex: data.slice().buffer });
  const ci = new pkijs.ContentInfo({ contentType: pkijs.ContentInfo.SIGNED_DATA, content: sd.toSchema(true) });
  return Buffer.from(ci.toSchema().toBER(false)).toString('base64');
}

/** A compact JWS over `content` with the certificate chain in x5c (VGCA-style JSON signature). */
export async function signJws(content: string, signer: Issued, chain: x509.X509Certificate[]): Promise<string> {
  const x5c = [signer.cert, ...chain].map((c) => Buffer.from(c.rawData).toString('base64'));
  return new jose.CompactSign(new TextEncoder().encode(content)).setProtectedHeader({ alg: 'RS256', x5c }).sign(signer.keys.privateKey);
}

/** Write a dev CA to `dir` (`igate-broker dev ca`): root, issuing CA, CRL, and one certificate per business. */
export async function writeDevCa(dir: string, businesses: { mst: string; name: string }[]): Promise<string[]> {
  const pki = await TestPki.create();
  await mkdir(join(dir, 'businesses'), { recursive: true });
  const files: string[] = [];
  const put = async (name: string, text: string, mode = 0o644) => {
    await writeFile(join(dir, name), text, { mode });
    files.push(join(dir, name));
  };
  await put('root.pem', pki.root.cert.toString('pem'));
  await put('issuing.pem', pki.issuing.cert.toString('pem'));
  await put('issuing.crl.pem', await pki.crl([], pki.issuing, 365 * 86_400_000));
  await put('root.crl.pem', await pki.crl([], pki.root, 365 * 86_400_000));
  for (const b of businesses) {
    const issued = await pki.issue({ mst: b.mst, cn: b.name });
    await put(`businesses/${b.mst}.cert.pem`, issued.cert.toString('pem'));
    await put(`businesses/${b.mst}.key.json`, JSON.stringify(await webcrypto.subtle.exportKey('jwk', issued.keys.privateKey)), 0o600);
  }
  return files;
}

/** A business's dev certificate and key from a dev CA directory, with the chain to include. */
export async function loadDevSigner(dir: string, mst: string): Promise<{ signer: Issued; chain: x509.X509Certificate[] } | undefined> {
  try {
    const cert = new x509.X509Certificate(await readFile(join(dir, 'businesses', `${mst}.cert.pem`), 'utf8'));
    const jwk = JSON.parse(await readFile(join(dir, 'businesses', `${mst}.key.json`), 'utf8')) as webcrypto.JsonWebKey;
    const privateKey = await webcrypto.subtle.importKey('jwk', jwk, { name: ALG.name, hash: ALG.hash }, true, ['sign']);
    const issuing = new x509.X509Certificate(await readFile(join(dir, 'issuing.pem'), 'utf8'));
    return { signer: { cert, keys: { privateKey, publicKey: privateKey } }, chain: [issuing] };
  } catch {
    return undefined;
  }
}

/**
 * A test OCSP responder's answer: the issuing CA signs "good", or "revoked" for the serials given.
 * (Development and tests: a real CA runs its own responder.)
 */
export async function ocspRespond(requestDer: ArrayBuffer, issuer: Issued, revokedSerials: ReadonlySet<string>): Promise<ArrayBuffer> {
  const request = pkijs.OCSPRequest.fromBER(requestDer);
  const reqCert = request.tbsRequest.requestList[0]!.reqCert;
  const serial = Buffer.from(reqCert.serialNumber.valueBlock.valueHexView).toString('hex').replace(/^0+/, '');
  const basic = new pkijs.BasicOCSPResponse();
  basic.tbsResponseData.responderID = pkijs.Certificate.fromBER(issuer.cert.rawData).subject;
  basic.tbsResponseData.producedAt = new Date();
  const single = new pkijs.SingleResponse();
  single.certID = reqCert;
  single.certStatus = revokedSerials.has(serial)
    ? new asn1js.Constructed({ idBlock: { tagClass: 3, tagNumber: 1 }, value: [new asn1js.GeneralizedTime({ valueDate: new Date(Date.now() - 60_000) })] })
    : new asn1js.Primitive({ idBlock: { tagClass: 3, tagNumber: 0 } });
  single.thisUpdate = new Date(Date.now() - 60_000);
  single.nextUpdate = new Date(Date.now() + 3_600_000);
  basic.tbsResponseData.responses.push(single);
  basic.certs = [pkijs.Certificate.fromBER(issuer.cert.rawData)];
  await basic.sign(dom(issuer.keys.privateKey) as never, 'SHA-256');
  const response = new pkijs.OCSPResponse();
  response.responseStatus.valueBlock.valueDec = 0;
  response.responseBytes = new pkijs.ResponseBytes({ responseType: '1.3.6.1.5.5.7.48.1.1', response: new asn1js.OctetString({ valueHex: basic.toSchema().toBER(false) }) });
  return response.toSchema().toBER(false);
}
