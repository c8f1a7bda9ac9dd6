import type { FastifyInstance } from 'fastify';
import type { Store } from '../store/store.js';
import type { Upstreams } from '../upstream/index.js';

/** /healthz: the process answers. /readyz: it can serve logins (store ready, upstreams known). */
export function healthRoutes(app: FastifyInstance, deps: { store: Store; upstreams: Upstreams; info: () => Record<string, unknown> }): void {
  app.get('/healthz', async (_req, reply) => reply.header('cache-control', 'no-store').send({ status: 'ok' }));

  app.get('/readyz', async (_req, reply) => {
    const store = await deps.store.health();
    const upstreams = Object.fromEntries([...deps.upstreams.byName].map(([name, up]) => [name, up.available ? 'ok' : 'unavailable']));
    const ready = store.ok;
    return reply.code(ready ? 200 : 503).header('cache-control', 'no-store').send({
      status: ready ? 'ready' : 'not ready',
      store: { kind: deps.store.kind, ok: store.ok, detail: store.detail },
      upstreams,
      ...deps.info(),
    });
  });
}
