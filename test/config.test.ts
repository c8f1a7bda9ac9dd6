import t from 'tap';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, interpolate, parseConfig } from '../src/config/load.js';
import { cli as runCli } from './helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'igate-config-'));
const devYaml = readFileSync('config/dev.yaml', 'utf8');

/** Run the real CLI as an operator would. */
const cli = (args: string[], env: Record<string, string> = {}) => runCli(args, env);

function file(name: string, text: string) {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

t.test('check-config accepts the shipped dev config and the documented production example', async (t) => {
  const dev = await cli(['check-config', 'config/dev.yaml']);
  t.equal(dev.code, 0, dev.stderr);
  t.match(dev.stdout, 'valid');
  const prodEnv = {
    NODE_ENV: 'production', COOKIE_KEY: 'k'.repeat(40), SUBJECT_KEY: 's'.repeat(40), VNEID_SECRET: 'v'.repeat(40),
    DVCQG_SECRET: 'd'.repeat(40), LAMDONG_SECRET: 'l'.repeat(40), DAKNONG_SECRET: 'n'.repeat(40), REDIS_PASSWORD: 'r'.repeat(20),
    OTP_KEY: Buffer.alloc(32, 7).toString('base64'), SMS_TOKEN: 's'.repeat(40), AUDIT_KEY: 'a'.repeat(40),
  };
  const prod = await cli(['check-config', 'config/example.production.yaml'], prodEnv);
  t.equal(prod.code, 0, prod.stderr);
  t.match(prod.stdout, 'valid for production');
});

t.test('check-config prints every error with its path and exits 1', async (t) => {
  const clients = devYaml.slice(devYaml.indexOf('clients:'), devYaml.indexOf('# The shipped account-type rules'));
  const bad = devYaml
    .replace(clients, `clients:
  - { clientId: demo-lamdong, clientSecret: a, province: lam-dong, redirectUris: [http://localhost:3200/callback] }
  - { clientId: demo-lamdong, clientSecret: b, province: lam-dong, redirectUris: ["http://dichvucong.example.vn/*"] }
`)
    .replace('policyFile: ./policy.vn.yaml', `policy:
  provinces:
    dak-nong: { phases: [{ from: 2024-07-01, citizen: ["vneid:level2", zalo] }] }`);
  const res = await cli(['check-config', file('bad.yaml', bad)]);
  t.equal(res.code, 1);
  t.match(res.stderr, 'clients[1].clientId: duplicate clientId (also clients[0])');
  t.match(res.stderr, 'clients[1].redirectUris[0]: must be an absolute https URL outside dev');
  t.match(res.stderr, 'clients[1].redirectUris[0]: wildcards are not allowed');
  t.match(res.stderr, 'policy.provinces.dak-nong.phases[0].citizen[1]: unknown upstream "zalo"');
});

t.test('a policyFile is read relative to the config and its errors carry policy paths', async (t) => {
  file('policy-bad.yaml', 'provinces:\n  x: { phases: [{ from: 2024-07-01, citizen: ["vneid:level7"] }] }\n');
  const res = await cli(['check-config', file('with-policy-file.yaml', devYaml.replace('policyFile: ./policy.vn.yaml', 'policyFile: ./policy-bad.yaml'))]);
  t.equal(res.code, 1);
  t.match(res.stderr, /policy.provinces.x.phases\[0\].citizen\[0\]: method must look like/);
  const missing = await cli(['check-config', file('no-policy-file.yaml', devYaml.replace('policyFile: ./policy.vn.yaml', 'policyFile: ./nowhere.yaml'))]);
  t.equal(missing.code, 1);
  t.match(missing.stderr, 'nowhere.yaml: invalid configuration');
  t.match(missing.stderr, 'cannot read: ENOENT');
});

t.test('production refuses development secrets, http URLs and generated keys (FT-13, FT-14)', async (t) => {
  const res = await cli(['check-config', 'config/dev.yaml'], { NODE_ENV: 'production' });
  t.equal(res.code, 1);
  t.match(res.stderr, 'keys.cookieKeys[0]: is a development/default value, refused in production');
  t.match(res.stderr, 'issuer: must be an absolute https URL in production');
  t.match(res.stderr, 'keys.generateIfMissing: generated keys are refused in production');
});

t.test('the server refuses to start in production with the embedded store', async (t) => {
  const cfgFile = file('prod-no-redis.yaml', readFileSync('config/example.production.yaml', 'utf8').replace(/^redis:.*\n(?: {2}.*\n)*/m, ''));
  const jwks = join(dir, 'jwks.json');
  const gen = await cli(['keys', 'generate', jwks]);
  t.equal(gen.code, 0, gen.stderr);
  const res = await cli(['--config', cfgFile], {
    NODE_ENV: 'production', SIGNING_JWKS: jwks, COOKIE_KEY: 'k'.repeat(40), SUBJECT_KEY: 's'.repeat(40), VNEID_SECRET: 'v'.repeat(40),
    DVCQG_SECRET: 'd'.repeat(40), LAMDONG_SECRET: 'l'.repeat(40), DAKNONG_SECRET: 'n'.repeat(40), REDIS_URL: '',
    OTP_KEY: Buffer.alloc(32, 7).toString('base64'), SMS_TOKEN: 's'.repeat(40), AUDIT_KEY: 'a'.repeat(40),
  });
  t.equal(res.code, 1);
  t.match(res.stderr, 'NODE_ENV=production needs Redis');
});

t.test('${VAR} interpolation: values, defaults, and a missing variable named with its path', async (t) => {
  const issues: { path: string; message: string }[] = [];
  const out = interpolate({ a: '${X}', b: ['${Y:-fallback}'], c: { d: 'x-${MISSING}' } }, { X: 'one' }, [], issues);
  t.same(out, { a: 'one', b: ['fallback'], c: { d: 'x-' } });
  t.same(issues, [{ path: 'c.d', message: 'environment variable MISSING is not set' }]);
});

t.test('YAML syntax errors and unknown keys are reported', async (t) => {
  t.throws(() => parseConfig('issuer: [unclosed', 'x.yaml', { production: false, vars: {} }), ConfigError);
  try {
    parseConfig(devYaml.replace('listen:', 'lisen:'), 'x.yaml', { production: false, vars: {} });
    t.fail('should throw');
  } catch (err) {
    t.match((err as ConfigError).issues, [{ message: /Unrecognized key/ }]);
  }
});

t.test('unknown command: usage and exit 2', async (t) => {
  const res = await cli(['frobnicate']);
  t.equal(res.code, 2);
  t.match(res.stderr, 'Usage:');
});
