import t from 'tap';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as jose from 'jose';
import { signCms, signJws, TestPki, type Issued } from '../src/dev/pki.js';
import { taxCodesOf, UID_OID, x509 } from '../src/signature/pki.js';
import { Browser, findForm, type Page } from './helpers/browser.js';
import { login, startStack, TestPortal } from './helpers/stack.js';

// Business logins with a digital signature: generated certificates shaped like Vietnamese ones.
const MST = '0313994173';
const pki = await TestPki.create('igate test Root CA');
const stranger = await TestPki.create('Untrusted Root CA');
const good = await pki.issue({ mst: MST, cn: 'CONG TY TNHH CA PHE DA LAT XANH' });
const revoked = await pki.issue({ mst: MST });
const dir = mkdtempSync(join(tmpdir(), 'igate-pki-'));
writeFileSync(join(dir, 'root.pem'), pki.root.cert.toString('pem'));
writeFileSync(join(dir, 'issuing.crl.pem'), await pki.crl([revoked.cert]));
writeFileSync(join(dir, 'root.crl.pem'), await pki.crl([], pki.root));

const clock = { instant: Date.now(), now() { return this.instant; } };
const stack = await startStack({
  clock,
  policy: { default: { phases: [{ from: '2020-01-01', citizen: ['vneid'], business: ['dvcqg+signature'] }] } },
  tweak: (raw) => {
    raw.signature = { trustedRoots: [join(dir, 'root.pem')], crls: [join(dir, 'issuing.crl.pem'), join(dir, 'root.crl.pem')] };
  },
});
t.teardown(() => stack.close());
const portal = new TestPortal(stack);
const jwks = jose.createRemoteJWKSet(new URL(`${stack.issuer}/jwks`));

/** A business login up to the signature page; returns the challenge it shows. */
async function toSignature(params: Record<string, string> = {}) {
  const { page, req, browser } = await login(portal, { idp: 'dvcqg', accountType: 'business', username: MST, params });
  t.match(page.url, /\/signature$/, 'after DVCQG: the signature step');
  const b64 = /data-challenge-base64="([^"]+)"/.exec(page.body)![1]!;
  return { page, req, browser, challenge: Buffer.from(b64, 'base64').toString('utf8') };
}

async function post(browser: Browser, page: Page, form: { format: 'cms' | 'jws'; signature: string; device?: string }) {
  const action = findForm(page.body, '/signature"').action;
  return browser.submit(page, { device: 'usb', ...form }, { action, stopAt: portal.isCallback });
}

t.test('the challenge binds this broker, this login, the MST, the time and a random value', async (t) => {
  const { challenge, page } = await toSignature();
  const c = JSON.parse(challenge) as Record<string, string>;
  t.match(c, { purpose: 'igate-sso-broker login', iss: stack.issuer, mst: MST, interaction: /\/interaction\/([^/]+)\/signature$/.exec(page.url)![1] });
  t.match(c.nonce, /^[A-Za-z0-9_-]{24}$/);
  t.ok(Date.parse(c.iat!) > 0);
  t.match(page.body, 'Công ty TNHH Cà phê Đà Lạt Xanh');
  t.match(page.body, 'Mã số thuế (MST): <strong>0313994173</strong>');
});

for (const [name, sign, device, amr] of [
  ['attached CMS from a USB token', (c: string) => signCms(c, good, [pki.issuing.cert], { detached: false }), 'usb', 'hwk'],
  ['detached CMS from a SIM signature', (c: string) => signCms(c, good, [pki.issuing.cert], { detached: true }), 'sim', 'sc'],
  ['JWS with x5c', (c: string) => signJws(c, good, [pki.issuing.cert]), 'usb', 'hwk'],
] as const) {
  t.test(`a valid ${name} finishes the login with acr 3`, async (t) => {
    const { page, req, browser, challenge } = await toSignature({ scope: 'openid signature' });
    const done = await post(browser, page, { format: name.startsWith('JWS') ? 'jws' : 'cms', signature: await sign(challenge), device });
    t.ok(portal.isCallback(done.url), `code issued (${done.status} ${done.body.slice(0, 200)})`);
    const tokens = await portal.exchange(done.url, req);
    const { payload } = await jose.jwtVerify(tokens.id_token!, jwks, { issuer: stack.issuer, audience: 'lamdong-igate' });
    t.equal(payload.acr, 'urn:igate:acr:3');
    t.ok((payload.amr as string[]).includes(amr), `amr has ${amr}`);
    t.match(payload, { account_type: 'business', tax_code: MST, signature: { serial: good.cert.serialNumber, issuer: pki.issuing.cert.subject, device } });
  });
}

type Case = [string, (challenge: string) => Promise<{ format: 'cms' | 'jws'; signature: string }>, string, number, (() => void)?];
const cms = (c: string, who: Issued, chain: x509.X509Certificate[], detached = false) => signCms(c, who, chain, { detached }).then((signature) => ({ format: 'cms' as const, signature }));
const cases: Case[] = [
  ['wrong MST', async (c) => cms(c, await pki.issue({ mst: '0101234567' }), [pki.issuing.cert]), 'signature_mst_mismatch', 403],
  ['expired certificate', async (c) => cms(c, await pki.issue({ mst: MST, notBefore: new Date('2020-01-01'), notAfter: new Date('2021-01-01') }), [pki.issuing.cert]), 'signature_expired', 403],
  ['certificate not yet valid', async (c) => cms(c, await pki.issue({ mst: MST, notBefore: new Date(Date.now() + 86_400_000 * 30) }), [pki.issuing.cert]), 'signature_not_yet_valid', 403],
  ['untrusted root', async (c) => cms(c, await stranger.issue({ mst: MST }), [stranger.issuing.cert]), 'signature_untrusted', 403],
  ['missing intermediate', async (c) => cms(c, good, []), 'signature_untrusted', 403],
  ['revoked by CRL', async (c) => cms(c, revoked, [pki.issuing.cert]), 'signature_revoked', 403],
  ['key usage without signing', async (c) => cms(c, await pki.issue({ mst: MST, keyUsage: x509.KeyUsageFlags.keyEncipherment }), [pki.issuing.cert]), 'signature_key_usage', 403],
  ['a signature over other content', async (c) => cms(c.replace(MST, '0101234567'), good, [pki.issuing.cert], true), 'signature_invalid', 400],
  ['garbage', async () => ({ format: 'cms', signature: 'bm90IGEgc2lnbmF0dXJl' }), 'signature_malformed', 400],
];

for (const [name, make, reason, status] of cases) {
  t.test(`refused with its own reason: ${name}`, async (t) => {
    const { page, browser, challenge } = await toSignature();
    const res = await post(browser, page, await make(challenge));
    t.equal(res.status, status);
    t.match(res.body, `<code>${reason}</code>`);
    t.notOk(portal.isCallback(res.url), 'no code');
    t.match(res.body, /href="\/interaction\/[^"]+\/signature"/, 'a retry link to sign again');
    t.ok(stack.logs.some((l) => l.msg === 'signature refused' && l.reason === reason), 'logged with its reason');
  });
}

t.test('the challenge is single use, expires after 5 minutes, and belongs to one login', async (t) => {
  const a = await toSignature();
  const signature = await signCms(a.challenge, good, [pki.issuing.cert], { detached: false });
  const done = await post(a.browser, a.page, { format: 'cms', signature });
  t.ok(portal.isCallback(done.url));
  // Another login replays that signature (for another interaction's challenge).
  const b = await toSignature();
  const other = await post(b.browser, b.page, { format: 'cms', signature });
  t.match(other.body, '<code>signature_challenge_mismatch</code>', 'a challenge from another interaction');
  // The same login posts again: its challenge was used by the refused attempt.
  const replay = await b.browser.request(new URL(findForm(b.page.body, '/signature"').action!, b.page.url).href, { form: { ...findForm(b.page.body, '/signature"').fields, format: 'cms', signature } });
  t.match(replay.body, '<code>signature_challenge_expired</code>', 'a used challenge is refused');

  const c = await toSignature();
  clock.instant += 5 * 60_000 + 1000;
  const late = await post(c.browser, c.page, { format: 'cms', signature: await signCms(c.challenge, good, [pki.issuing.cert], { detached: false }) });
  t.match(late.body, '<code>signature_challenge_expired</code>', 'expired after 5 minutes');
  clock.instant = Date.now();
});

t.test('a business that skips the signature gets no code', async (t) => {
  const { page, browser } = await toSignature();
  const uid = /\/interaction\/([^/]+)\/signature$/.exec(page.url)![1]!;
  const resume = await browser.follow(await browser.request(`${stack.issuer}/auth/${uid}`), portal.isCallback);
  t.notOk(new URL(resume.url).searchParams.get('code'));
  const finish = await browser.request(`${stack.issuer}/interaction/${uid}/finish`);
  t.equal(finish.status, 400);
});

t.test('tax codes are read from UID attributes as Vietnamese CAs write them', async (t) => {
  const mk = async (uids: string[]) => {
    const k = await pki.issue({ mst: undefined });
    const cert = await x509.X509CertificateGenerator.create({
      serialNumber: '77', subject: ['CN=X', ...uids.map((u) => `${UID_OID}=${u}`)].join(', '), issuer: pki.issuing.cert.subject,
      signingKey: pki.issuing.keys.privateKey as never, publicKey: k.keys.publicKey as never, signingAlgorithm: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' } as never,
    });
    return taxCodesOf(cert);
  };
  t.same(await mk(['MST:0313994173']), ['0313994173']);
  t.same(await mk(['MST:0100686209-199']), ['0100686209-199'], 'branch');
  t.same(await mk(['CCCD:079088001234', 'MST:0313994173']), ['0313994173'], 'employee certificate: the CCCD is not a tax code');
  t.same(await mk(['0313994173']), ['0313994173'], 'a bare value');
  t.same(await mk(['CMND:123456789']), []);
});

t.test('no current CRL for an issuer: refused by default, accepted when fail-open is chosen', async (t) => {
  const { TrustStore } = await import('../src/signature/trust.js');
  const { verifyProof } = await import('../src/signature/verify.js');
  const { createLogger } = await import('../src/ops/logger.js');
  const trust = await TrustStore.load({ trustedRoots: [join(dir, 'root.pem')], crls: [join(dir, 'issuing.crl.pem'), join(dir, 'missing.crl.pem')], crlRefreshSeconds: 3600, crlTimeoutMs: 1000 }, createLogger({ level: 'silent' }));
  const content = 'challenge';
  const proof = { format: 'cms' as const, signature: await signCms(content, good, [pki.issuing.cert], { detached: false }) };
  const base = { expected: content, taxCode: MST, trust, now: Date.now(), isOtherChallenge: () => false };
  const refused = await verifyProof(proof, { ...base, revocationFailOpen: false }).then(() => undefined, (e: unknown) => e as { reason?: string });
  t.equal(refused?.reason, 'signature_revocation_unavailable');
  const ok = await verifyProof(proof, { ...base, revocationFailOpen: true });
  t.equal(ok.certificate.serial, good.cert.serialNumber);
});

t.test('an operator may accept DVCQG\'s own "USB ký số" login as the signature (off by default)', async (t) => {
  const trusting = await startStack({
    policy: { default: { phases: [{ from: '2020-01-01', citizen: ['vneid'], business: ['dvcqg+signature'] }] } },
    tweak: (raw) => {
      raw.signature = { trustedRoots: [join(dir, 'root.pem')], crls: [join(dir, 'issuing.crl.pem'), join(dir, 'root.crl.pem')], upstreamSignatureSufficient: true };
    },
  });
  t.teardown(() => trusting.close());
  const p = new TestPortal(trusting);
  const browser = new Browser();
  const req = await p.authorize();
  const chooser = await browser.go(req.url);
  const atDvcqg = await browser.submit(chooser, { choice: 'business:dvcqg' });
  const usbTab = await browser.go(new URL(/href="([^"]*tab=usb)"/.exec(atDvcqg.body)![1]!.replaceAll('&amp;', '&'), atDvcqg.url).href);
  const otp = await browser.submit(usbTab, { username: MST, password: 'Matkhau@123' });
  const done = await browser.submit(otp, { otp: '123456' }, { stopAt: p.isCallback });
  t.ok(p.isCallback(done.url), 'no signature page: DVCQG reported the USB token login');
  const tokens = await p.exchange(done.url, req);
  t.equal(tokens.claims()!.acr, 'urn:igate:acr:3');
  t.ok((tokens.claims()!.amr as string[]).includes('hwk'));
  const plain = await login(p, { idp: 'dvcqg', accountType: 'business', username: MST });
  t.match(plain.page.url, /\/signature$/, 'a password login still has to sign');
});

t.test('OCSP where the certificate names a responder: a revoked answer refuses, a good one passes, no answer and no CRL fails closed', async (t) => {
  const { createServer } = await import('node:http');
  const { ocspRespond } = await import('../src/dev/pki.js');
  const revokedSerials = new Set<string>();
  let up = true;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      if (!up) return void res.writeHead(503).end();
      const der = Buffer.concat(chunks);
      const answer = await ocspRespond(der.buffer.slice(der.byteOffset, der.byteOffset + der.byteLength), pki.issuing, revokedSerials);
      res.writeHead(200, { 'content-type': 'application/ocsp-response' }).end(Buffer.from(answer));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise<void>((r) => server.close(() => r())));
  const ocspUrl = `http://127.0.0.1:${(server.address() as { port: number }).port}/ocsp`;
  const sign = async (who: Issued) => {
    const { page, browser, challenge } = await toSignature();
    return post(browser, page, { format: 'cms', signature: await signCms(challenge, who, [pki.issuing.cert], { detached: false }) });
  };

  const good = await pki.issue({ mst: MST, ocspUrl });
  t.ok(portal.isCallback((await sign(good)).url), 'OCSP says good (and the CRL does not list it): accepted');

  const bad = await pki.issue({ mst: MST, ocspUrl });
  revokedSerials.add(bad.cert.serialNumber.replace(/^0+/, ''));
  const refused = await sign(bad);
  t.match(refused.body, '<code>signature_revoked</code>', 'revoked by OCSP although the CRL does not list it');
  t.ok(stack.logs.some((l) => l.msg === 'signature refused' && String(l.detail).includes('(OCSP)')));

  // Without a CRL for the issuing CA, OCSP alone decides; when the responder is down: fail closed.
  const { TrustStore } = await import('../src/signature/trust.js');
  const { verifyProof } = await import('../src/signature/verify.js');
  const { createLogger } = await import('../src/ops/logger.js');
  const trust = await TrustStore.load({ trustedRoots: [join(dir, 'root.pem')], crls: [join(dir, 'root.crl.pem')], crlRefreshSeconds: 3600, crlTimeoutMs: 1000 }, createLogger({ level: 'silent' }));
  const fresh = await pki.issue({ mst: MST, ocspUrl });
  const proof = { format: 'cms' as const, signature: await signCms('c', fresh, [pki.issuing.cert], { detached: false }) };
  const base = { expected: 'c', taxCode: MST, trust, now: Date.now(), isOtherChallenge: () => false, revocationFailOpen: false, ocspTimeoutMs: 1000 };
  t.equal((await verifyProof(proof, base)).certificate.serial, fresh.cert.serialNumber, 'OCSP good, no CRL: accepted');
  up = false;
  const other = await pki.issue({ mst: MST, ocspUrl });
  const proof2 = { format: 'cms' as const, signature: await signCms('c', other, [pki.issuing.cert], { detached: false }) };
  const refused2 = await verifyProof(proof2, base).then(() => undefined, (e: unknown) => e as { reason?: string });
  t.equal(refused2?.reason, 'signature_revocation_unavailable', 'responder down and no CRL: refused');
});
