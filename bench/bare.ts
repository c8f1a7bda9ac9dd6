// Benchmark child: a bare node-oidc-provider with nothing added (its own interaction logs in at once).
import { createServer } from 'node:http';
import Provider from 'oidc-provider';

const { port, redirectUri } = JSON.parse(process.argv[2]!) as { port: number; redirectUri: string };
const server = createServer();
const provider = new Provider(`http://127.0.0.1:${port}`, {
  clients: [{ client_id: 'portal', client_secret: 'bench-portal-secret', redirect_uris: [redirectUri], response_types: ['code'], grant_types: ['authorization_code'] }],
  findAccount: async (_ctx, sub) => ({ accountId: sub, claims: () => ({ sub }) }),
  features: { devInteractions: { enabled: false } },
  pkce: { required: () => true },
  interactions: { url: (_ctx, i) => `/interaction/${i.uid}` },
  async loadExistingGrant(ctx) {
    const grant = new ctx.oidc.provider.Grant({ accountId: ctx.oidc.session!.accountId!, clientId: ctx.oidc.client!.clientId });
    grant.addOIDCScope('openid');
    await grant.save();
    return grant;
  },
});
const callback = provider.callback();
server.on('request', (req, res) => {
  if (req.url?.startsWith('/interaction/')) {
    void provider.interactionFinished(req, res, { login: { accountId: 'bench-user' } }, { mergeWithLastSubmission: false });
    return;
  }
  void callback(req, res);
});
server.listen(port, '127.0.0.1', () => process.stdout.write('ready\n'));
