import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { z } from 'zod';

/** The simulators' test accounts (src/dev/accounts.yaml). */

const fault = z.discriminatedUnion('type', [
  z.object({ type: z.literal('access_denied') }),
  z.object({ type: z.literal('token_error') }),
  z.object({ type: z.literal('token_delay'), delayMs: z.number().int().min(0) }),
  z.object({ type: z.literal('missing_claims'), claims: z.array(z.string()).min(1) }),
]);

const account = z.object({
  username: z.string().min(1),
  password: z.string().default('Matkhau@123'),
  otp: z.string().regex(/^\d{6}$/).default('123456'),
  label: z.string(),
  fault: fault.optional(),
  claims: z.record(z.string(), z.unknown()),
});

const file = z.object({ dvcqg: z.array(account), vneid: z.array(account) });

export type SimAccount = z.infer<typeof account>;
export type SimFault = z.infer<typeof fault>;
export type SimAccounts = z.infer<typeof file>;

let cached: SimAccounts | undefined;

export function simAccounts(): SimAccounts {
  cached ??= file.parse(parse(readFileSync(new URL('./accounts.yaml', import.meta.url), 'utf8')));
  return cached;
}
