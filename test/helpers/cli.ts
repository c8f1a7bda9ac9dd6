import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * Run `igate-broker` as an operator would, in a child process. The child gets the environment
 * without tap's process tracking and coverage hooks: it loads the sources through tsx, whose
 * coverage cannot be merged with tap's, and tap would otherwise report only part of src/.
 */
export async function cli(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(NODE_OPTIONS|NODE_V8_COVERAGE|_TAPJS_|TAP)/.test(k)));
  try {
    const { stdout, stderr } = await run(process.execPath, ['bin/igate-broker.js', ...args], { env: { ...clean, NODE_ENV: '', BROKER_CONFIG: '', ...env } });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}
