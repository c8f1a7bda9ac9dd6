import { readEnv } from '../../src/config/env.js';
import { main } from '../../src/cli/main.js';

/**
 * Run `igate-broker` as an operator would, with its own environment, in this process (the same
 * entry point as bin/igate-broker.js, so its coverage counts and tap tracks no extra process).
 */
export async function cli(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const vars = { ...process.env, NODE_ENV: '', BROKER_CONFIG: '', LOG_LEVEL: 'silent', ...env };
  const code = await main(args, { write: (s: string) => (stdout += s) }, { write: (s: string) => (stderr += s) }, readEnv(vars));
  return { code, stdout, stderr };
}
