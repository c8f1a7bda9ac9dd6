import t from 'tap';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

// The installed command itself (bin/igate-broker.js runs the sources through tsx), as `npx igate-broker` after `npm ci`.
t.test('bin/igate-broker.js runs: help and check-config', async (t) => {
  const run = promisify(execFile);
  const help = await run(process.execPath, ['bin/igate-broker.js', '--help']);
  t.match(help.stdout, 'igate-broker --config FILE');
  const check = await run(process.execPath, ['bin/igate-broker.js', 'check-config', 'config/dev.yaml'], { env: { ...process.env, NODE_ENV: '' } });
  t.match(check.stdout, 'config/dev.yaml: valid');
});
