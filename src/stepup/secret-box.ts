import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/**
 * AES-256-GCM for secrets at rest (TOTP seeds). Each value records the id of the key that sealed
 * it, so keys rotate: the first key seals, every configured key opens. The associated data binds
 * a value to its owner: a seed copied to another person's key does not open.
 */
export class SecretBox {
  private readonly keys: Map<string, Buffer>;
  private readonly current: string;

  constructor(keys: { id: string; key: string }[]) {
    if (keys.length === 0) throw new Error('SecretBox needs at least one key');
    this.keys = new Map(keys.map((k) => [k.id, Buffer.from(k.key, 'base64')]));
    this.current = keys[0]!.id;
  }

  seal(plaintext: string, owner: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.keys.get(this.current)!, iv);
    cipher.setAAD(Buffer.from(owner));
    const ct = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return [this.current, iv.toString('base64url'), cipher.getAuthTag().toString('base64url'), ct.toString('base64url')].join('.');
  }

  /** The plaintext, or undefined when the value is not ours (unknown key, tampered, other owner). */
  open(sealed: string, owner: string): string | undefined {
    const [kid, iv, tag, ct] = sealed.split('.');
    const key = kid ? this.keys.get(kid) : undefined;
    if (!key || !iv || !tag || !ct) return undefined;
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
      decipher.setAAD(Buffer.from(owner));
      decipher.setAuthTag(Buffer.from(tag, 'base64url'));
      return Buffer.concat([decipher.update(Buffer.from(ct, 'base64url')), decipher.final()]).toString('utf8');
    } catch {
      return undefined;
    }
  }
}
