import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/** Request ids, shared between fastify routes and the provider's Koa app (which sees the raw request). */
const ids = new WeakMap<IncomingMessage, string>();

export function newRequestId(): string {
  return `req-${randomBytes(6).toString('hex')}`;
}

export function tagRequest(req: IncomingMessage, id: string): void {
  ids.set(req, id);
}

export function requestIdOf(req: IncomingMessage): string {
  let id = ids.get(req);
  if (!id) {
    id = newRequestId();
    ids.set(req, id);
  }
  return id;
}
