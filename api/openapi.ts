import { OpenAPIHono } from '@hono/zod-openapi';
import { tokenScopes, tokenScopeWords } from '../core/token-scopes.ts';
import type { App, AppEnv } from './env.ts';
import { registerMetricsEndpoint } from './metrics.ts';
import { registerListAudit } from './routes/audit/list.ts';
import { registerCreateCampaign } from './routes/campaigns/create.ts';
import { registerGetCampaign } from './routes/campaigns/get.ts';
import { registerListCampaigns } from './routes/campaigns/list.ts';
import { registerListCampaignRecipients } from './routes/campaigns/recipients.ts';
import { registerRetryFailedRecipients } from './routes/campaigns/retry-failed.ts';
import { RecipientInput } from './routes/campaigns/schemas.ts';
import { registerCreateAmendment } from './routes/delegations/amendments-create.ts';
import { registerListAmendments } from './routes/delegations/amendments-list.ts';
import { registerExtendDelegation } from './routes/delegations/extend.ts';
import { registerGetDelegation } from './routes/delegations/get.ts';
import { registerListDelegations } from './routes/delegations/list.ts';
import { registerTerminateDelegation } from './routes/delegations/terminate.ts';
import { registerHealth } from './routes/health.ts';
import { registerCreateOffer } from './routes/offers/create.ts';
import { registerListOffers } from './routes/offers/list.ts';
import { registerRevokeOffer } from './routes/offers/revoke.ts';
import { registerAddDomain } from './routes/operations/add-domain.ts';
import { registerGetOperation } from './routes/operations/get.ts';
import { registerListOperations } from './routes/operations/list.ts';
import { registerListClientDomains } from './routes/operations/list-domains.ts';
import { registerListClientUsers } from './routes/operations/list-users.ts';
import { registerProvisionUser } from './routes/operations/provision-user.ts';
import { registerResetPassword } from './routes/operations/reset-password.ts';
import { registerRetryOperation } from './routes/operations/retry.ts';
import { registerVerifyDomain } from './routes/operations/verify-domain.ts';
import { registerCreateStaff } from './routes/staff/create.ts';
import { registerListInvitations } from './routes/staff/invitations-list.ts';
import { registerRevokeInvitation } from './routes/staff/invitations-revoke.ts';
import { registerListStaff } from './routes/staff/list.ts';
import { registerRemoveStaff } from './routes/staff/remove.ts';
import { registerSetStaffAccess } from './routes/staff/set-access.ts';
import { registerCreateToken } from './routes/tokens/create.ts';
import { registerListTokens } from './routes/tokens/list.ts';
import { registerRevokeToken } from './routes/tokens/revoke.ts';
import { registerCreateWebhook } from './routes/webhooks/create.ts';
import { registerDeleteWebhook } from './routes/webhooks/delete.ts';
import { registerListWebhookDeliveries } from './routes/webhooks/deliveries-list.ts';
import { registerGetWebhookDelivery } from './routes/webhooks/delivery-get.ts';
import { registerWebhookEvents } from './routes/webhooks/event-schemas.ts';
import { registerGetWebhook } from './routes/webhooks/get.ts';
import { registerListWebhooks } from './routes/webhooks/list.ts';
import { registerRedeliverWebhook } from './routes/webhooks/redeliver.ts';
import { registerRotateWebhookSecret } from './routes/webhooks/rotate-secret.ts';
import { registerTestWebhook } from './routes/webhooks/test.ts';
import { registerUpdateWebhook } from './routes/webhooks/update.ts';

/**
 * Every route of the OpenAPI document, in the document's order: /metrics, the health
 * checks and the partner API. Registering only declares them (handlers read `c.var.deps`
 * when a request comes), so the document can be built without a database.
 */
export function registerApiRoutes(app: App): void {
  registerMetricsEndpoint(app);
  registerHealth(app);
  registerCreateOffer(app);
  registerListOffers(app);
  registerRevokeOffer(app);
  registerCreateCampaign(app);
  registerListCampaigns(app);
  registerGetCampaign(app);
  registerListCampaignRecipients(app);
  registerRetryFailedRecipients(app);
  registerListDelegations(app);
  registerGetDelegation(app);
  registerTerminateDelegation(app);
  registerExtendDelegation(app);
  registerCreateAmendment(app);
  registerListAmendments(app);
  registerCreateStaff(app);
  registerListInvitations(app);
  registerRevokeInvitation(app);
  registerListStaff(app);
  registerSetStaffAccess(app);
  registerRemoveStaff(app);
  registerListClientUsers(app);
  registerProvisionUser(app);
  registerResetPassword(app);
  registerListClientDomains(app);
  registerAddDomain(app);
  registerVerifyDomain(app);
  registerGetOperation(app);
  registerListOperations(app);
  registerRetryOperation(app);
  registerListAudit(app);
  registerCreateToken(app);
  registerListTokens(app);
  registerRevokeToken(app);
  registerCreateWebhook(app);
  registerListWebhooks(app);
  registerGetWebhook(app);
  registerUpdateWebhook(app);
  registerDeleteWebhook(app);
  registerRotateWebhookSecret(app);
  registerTestWebhook(app);
  registerListWebhookDeliveries(app);
  registerGetWebhookDelivery(app);
  registerRedeliverWebhook(app);
  // The events Mandate sends (the document's top-level `webhooks`), from core/webhook-events.ts.
  registerWebhookEvents(app);

  // Described here because the route checks its items itself (parseRecipientItems).
  app.openAPIRegistry.register('RecipientInput', RecipientInput);
  app.openAPIRegistry.registerComponent('securitySchemes', 'bearer', {
    type: 'http',
    scheme: 'bearer',
    description: `A partner API token (\`mdt_…\`), shown once when it is created. Each route names the one scope it needs; a token without it gets 403 \`INSUFFICIENT_SCOPE\`. Scopes:\n${tokenScopes.map((s) => `- \`${s}\`: ${tokenScopeWords[s]}`).join('\n')}`,
  });
}

/** The top of the document served at /openapi.json; `publicUrl` is its one server. */
export function openApiInfo(publicUrl: string) {
  return {
    openapi: '3.1.0',
    info: {
      title: 'Mandate partner API',
      version: '1.0.0',
      description:
        'Delegated administration for IT service partners. Errors are RFC 9457 problem+json documents with a stable `code`.',
    },
    servers: [{ url: publicUrl }],
  };
}

/**
 * The document /openapi.json serves, built from the same routes without a running app
 * (no database, no Redis): for the lint (`npm run check:openapi`) and the CLI's generated
 * types (`npm run openapi:types`). A test holds it equal to the served one.
 */
export function openApiDocument(publicUrl: string) {
  const app: App = new OpenAPIHono<AppEnv>();
  registerApiRoutes(app);
  return app.getOpenAPI31Document(openApiInfo(publicUrl));
}
