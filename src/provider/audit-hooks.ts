import type { KoaContextWithOIDC } from 'oidc-provider';
import type { AuditLog } from '../audit/index.js';
import type { Logger } from '../ops/logger.js';
import { requestIdOf } from '../ops/request-id.js';
import type { LoginRecord } from './accounts.js';

/**
 * Audit events of the provider's own endpoints, after the response is decided: authorization
 * requests, tokens issued, userinfo served, portal logouts. A failed audit write is logged as an
 * error (the portal's response is already decided at that point).
 */
export function providerAudit(audit: AuditLog, provinceOf: ReadonlyMap<string, string>, log: Logger) {
  return async (ctx: KoaContextWithOIDC) => {
    const route = ctx.oidc?.route;
    const client = ctx.oidc?.client?.clientId;
    const base = { client, province: client ? provinceOf.get(client) : undefined, ip: ctx.ip, userAgent: ctx.get('user-agent'), requestId: requestIdOf(ctx.req) };
    const record = (ctx.oidc?.account as { record?: LoginRecord } | undefined)?.record;
    const person = record ? { nationalId: record.identity.nationalId, taxCode: record.identity.taxCode, accountType: record.identity.accountType } : undefined;
    try {
      if (route === 'authorization' && ctx.method !== 'OPTIONS') {
        const p = ctx.oidc.params as Record<string, unknown> | undefined;
        await audit.append({ ...base, event: 'authorize.received', outcome: ctx.status < 400 ? 'info' : 'failure', reason: ctx.status >= 400 ? `HTTP ${ctx.status}` : undefined, detail: { acr_values: String(p?.acr_values ?? ''), idp_hint: String(p?.idp_hint ?? ''), prompt: String(p?.prompt ?? '') } });
      } else if (route === 'token' && ctx.status === 200) {
        await audit.append({ ...base, event: 'token.issued', outcome: 'success', person, idp: record?.identity.idp, acr: record?.acr });
      } else if (route === 'token') {
        await audit.append({ ...base, event: 'token.issued', outcome: 'failure', reason: String((ctx.body as { error?: string } | undefined)?.error ?? ctx.status) });
      } else if (route === 'userinfo' && ctx.status === 200) {
        await audit.append({ ...base, event: 'userinfo.served', outcome: 'success', person, idp: record?.identity.idp });
      } else if (route === 'end_session_confirm' && ctx.status === 303) {
        await audit.append({ ...base, event: 'logout.portal', outcome: 'success' });
      }
    } catch (err) {
      log.error({ err: { message: (err as Error).message }, route }, 'audit write failed for a provider endpoint');
    }
  };
}
