import { randomUUID } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { exportJWK, generateKeyPair } from 'jose';
import { z } from 'zod';

/**
 * The broker's ID token signing keys: a JWKS file read once at start. In development the
 * file may be generated on first start (kept in a git-ignored folder, so `sub`-independent
 * tokens survive restarts); production refuses such generated files.
 */

const jwk = z.object({ kty: z.string(), kid: z.string().min(1, 'every key needs a kid'), d: z.string().optional() }).passthrough();
const jwksFile = z.object({ keys: z.array(jwk).min(1), generatedBy: z.string().optional() }).passthrough();

export type SigningKey = z.infer<typeof jwk>;

const DEV_MARKER = 'igate-broker development key generator';

export async function loadSigningKeys(file: string, opts: { production: boolean; generateIfMissing: boolean }): Promise<SigningKey[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || !opts.generateIfMissing || opts.production) {
      throw new Error(`keys.signingJwks: cannot read ${file} (${(err as NodeJS.ErrnoException).code}). Create one with "igate-broker keys generate ${file}".`);
    }
    return generateKeysFile(file, DEV_MARKER);
  }
  const parsed = jwksFile.safeParse(JSON.parse(text));
  if (!parsed.success) throw new Error(`keys.signingJwks: ${file} is not a JWKS with private keys and kids: ${parsed.error.issues[0]?.message}`);
  if (opts.production && parsed.data.generatedBy === DEV_MARKER) {
    throw new Error(`keys.signingJwks: ${file} holds development keys generated at start; production needs keys made with "igate-broker keys generate"`);
  }
  const missingPrivate = parsed.data.keys.find((k) => !k.d);
  if (missingPrivate) throw new Error(`keys.signingJwks: key ${missingPrivate.kid} has no private part`);
  return parsed.data.keys;
}

/** Write a new RS256 signing key (private JWKS, mode 0600). */
export async function generateKeysFile(file: string, generatedBy = 'igate-broker keys generate'): Promise<SigningKey[]> {
  const { privateKey } = await generateKeyPair('RS256', { extractable: true, modulusLength: 2048 });
  const key = { ...(await exportJWK(privateKey)), kid: randomUUID(), alg: 'RS256', use: 'sig' } as SigningKey;
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, `${JSON.stringify({ generatedBy, keys: [key] }, null, 2)}\n`, { mode: 0o600 });
  return [key];
}
