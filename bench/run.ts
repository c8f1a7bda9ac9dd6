// `npm run bench`: complete brokered logins through the broker (against a minimal upstream, with
// Redis), and the same code flow against a bare node-oidc-provider, in one run. Prints logins/s,
// latency percentiles and server CPU-ms per login for both, and their ratio. It measures; it does
// not pass or fail. Options: --duration S (10) --warmup S (2) --concurrency N (8).
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Browser } from '../test/helpers/browser.js';
import { freePort, startRedis } from '../test/helpers/redis.js';

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > -1 ? Number(process.argv[i + 1]) : fallback;
};
const DURATION = arg('duration', 10) * 1000;
const WARMUP = arg('warmup', 2) * 1000;
const CONCURRENCY = arg('concurrency', 8);
const REDIRECT = 'https://portal.example/cb';
const CLK_TCK = 100;

function child(script: string, params: object): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [...(process.env.BENCH_PROF && script.includes('broker') ? ['--cpu-prof', '--cpu-prof-dir=/tmp/prof'] : []), '--import', 'tsx', script, JSON.stringify(params)], { stdio: ['ignore', 'pipe', 'ignore'] });
    p.stdout!.on('data', (d: Buffer) => {
      if (String(d).includes('ready')) resolve(p);
    });
    p.once('exit', (code) => reject(new Error(`${script} exited with ${code}`)));
    process.once('exit', () => p.kill('SIGKILL'));
  });
}

function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLK_TCK;
}

type Flow = () => Promise<void>;

function pkce() {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

function codeFlow(issuer: string, extra: Record<string, string>, atUpstream?: (b: Browser, page: Awaited<ReturnType<Browser['go']>>) => Promise<Awaited<ReturnType<Browser['go']>>>): Flow {
  return async () => {
    const b = new Browser();
    const { verifier, challenge } = pkce();
    const q = new URLSearchParams({ client_id: 'portal', response_type: 'code', scope: 'openid', redirect_uri: REDIRECT, state: randomBytes(8).toString('hex'), code_challenge: challenge, code_challenge_method: 'S256', ...extra });
    const stop = (u: string) => u.startsWith(REDIRECT);
    let page = await b.go(`${issuer}/auth?${q}`, stop);
    if (atUpstream && !stop(page.url)) page = await atUpstream(b, page);
    const code = new URL(page.url).searchParams.get('code');
    if (!code) throw new Error(`no code (${page.status} ${page.url})`);
    const res = await fetch(`${issuer}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from('portal:bench-portal-secret').toString('base64')}` },
      body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT, code_verifier: verifier }),
    });
    if (res.status !== 200) throw new Error(`token ${res.status}`);
    await res.arrayBuffer();
  };
}

async function load(flow: Flow, pid: number) {
  const run = async (until: number, latencies: number[] | undefined) => {
    let errors = 0;
    await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
      while (Date.now() < until) {
        const t0 = performance.now();
        try {
          await flow();
          latencies?.push(performance.now() - t0);
        } catch {
          errors++;
        }
      }
    }));
    return errors;
  };
  await run(Date.now() + WARMUP, undefined);
  const latencies: number[] = [];
  const cpu0 = cpuMs(pid);
  const t0 = Date.now();
  const errors = await run(t0 + DURATION, latencies);
  const seconds = (Date.now() - t0) / 1000;
  const cpu = cpuMs(pid) - cpu0;
  latencies.sort((a, b) => a - b);
  const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))] ?? NaN;
  return { logins: latencies.length, errors, perSecond: latencies.length / seconds, p50: pct(50), p95: pct(95), p99: pct(99), cpuMsPerLogin: cpu / Math.max(1, latencies.length) };
}

const redis = await startRedis();
const [brokerPort, upstreamPort, barePort] = [await freePort(), await freePort(), await freePort()];
const broker = `http://127.0.0.1:${brokerPort}`;
const upstream = `http://127.0.0.1:${upstreamPort}`;
await child('bench/upstream.ts', { port: upstreamPort, callback: `${broker}/upstream/vneid/callback` });
const brokerProc = await child('bench/broker.ts', { port: brokerPort, upstream, redisUrl: redis.url, redirectUri: REDIRECT });
const bareProc = await child('bench/bare.ts', { port: barePort, redirectUri: REDIRECT });

const brokered = codeFlow(broker, { idp_hint: 'vneid' }, async (b, page) => {
  const otp = await b.submit(page, { username: '079088001234', password: 'Matkhau@123' });
  return b.submit(otp, { otp: '123456' }, { stopAt: (u) => u.startsWith(REDIRECT) });
});
const bare = codeFlow(`http://127.0.0.1:${barePort}`, {});

console.log(`igate-sso-broker bench: ${CONCURRENCY} concurrent logins, ${WARMUP / 1000} s warm-up, ${DURATION / 1000} s measured, Node ${process.version}`);
const b = await load(brokered, brokerProc.pid!);
const r = await load(bare, bareProc.pid!);
const row = (name: string, x: typeof b) => `${name.padEnd(34)} ${String(x.logins).padStart(7)} ${x.perSecond.toFixed(1).padStart(9)} ${x.p50.toFixed(1).padStart(8)} ${x.p95.toFixed(1).padStart(8)} ${x.p99.toFixed(1).padStart(8)} ${x.cpuMsPerLogin.toFixed(2).padStart(10)} ${String(x.errors).padStart(6)}`;
console.log(`${'target'.padEnd(34)} ${'logins'.padStart(7)} ${'logins/s'.padStart(9)} ${'p50 ms'.padStart(8)} ${'p95 ms'.padStart(8)} ${'p99 ms'.padStart(8)} ${'CPU ms/lg'.padStart(10)} ${'errors'.padStart(6)}`);
console.log(row('broker (upstream + Redis + audit)', b));
console.log(row('bare oidc-provider (in memory)', r));
console.log(`ratio broker/bare: logins/s ${(b.perSecond / r.perSecond).toFixed(2)}, server CPU per login ${(b.cpuMsPerLogin / r.cpuMsPerLogin).toFixed(2)} (the brokered login also does the upstream round trip, OTP at the upstream, policy and audit)`);
console.log(JSON.stringify({ concurrency: CONCURRENCY, seconds: DURATION / 1000, broker: b, bare: r }));
// Let the children exit by themselves (a CPU profile, with BENCH_PROF=1, is written on exit).
await Promise.all([brokerProc, bareProc].map((p) => new Promise((r) => {
  p.once('exit', r);
  p.kill('SIGTERM');
  setTimeout(r, 3000).unref();
})));
await redis.stop();
process.exit(0);
