import type { Context } from 'hono';
import { AppError, isAppError } from '../../../core/errors.ts';
import { subscribableEventTypes } from '../../../core/webhook-events.ts';
import {
  createWebhookEndpoint,
  deleteWebhookEndpoint,
  getWebhookDelivery,
  getWebhookEndpoint,
  listWebhookDeliveries,
  listWebhookEndpoints,
  redeliverWebhook,
  rotateWebhookSecret,
  sendWebhookTest,
  updateWebhookEndpoint,
} from '../../../services/webhooks/endpoints.ts';
import type { AppEnv, WebApp } from '../../env.ts';
import { csrfToken, formFields, renderPage, verifyCsrf } from '../shared/context.ts';
import { type DeliveryFilter, WebhookConfirmPage, WebhookDeliveryPage, WebhookPage } from './pages/webhook.tsx';
import { type WebhookFormValues, WebhookSecretPage, WebhooksPage } from './pages/webhooks.tsx';
import { newSubmission, SUBMISSION_FIELD, submitOnce } from './submit-once.ts';

/** Deliveries on one page of an endpoint's list. */
const DELIVERIES_PAGE = 50;
const filters: readonly DeliveryFilter[] = ['pending', 'delivered', 'failed'];

/** Fixed sentences for the notice after a form, chosen by a code in the redirect. */
function webhookNotice(c: Context<AppEnv>): string | undefined {
  switch (c.req.query('notice')) {
    case 'webhook-deleted':
      return 'The webhook was deleted: nothing more is sent to it.';
    case 'webhook-saved':
      return 'Saved.';
    case 'webhook-on':
      return 'Turned on: events from now on are sent to it.';
    case 'webhook-off':
      return 'Turned off: nothing is sent to it until it is turned on again.';
    case 'webhook-test':
      return 'A test event is on its way: it shows under Recent deliveries.';
    case 'webhook-redelivered':
      return 'Sent again, as a new delivery of the same event (the same webhook-id).';
    default:
      return undefined;
  }
}

/** The ticked event types of a settings form (checkboxes named `event:<type>`). */
function tickedEvents(form: Record<string, string>): string[] {
  return subscribableEventTypes.filter((type) => form[`event:${type}`]);
}

/** A refusal the form shows in words, with what was sent filled in again. */
function formRefusal(error: unknown): string | null {
  if (isAppError(error, 'VALIDATION_FAILED') || isAppError(error, 'WEBHOOK_URL_REFUSED')) {
    return (error as AppError).message;
  }
  return null;
}

async function webhooksPage(
  c: Context<AppEnv>,
  extra: { error?: string; values?: WebhookFormValues } = {},
  status = 200,
) {
  const endpoints = await listWebhookEndpoints(c.var.deps, c.var.principal);
  return renderPage(
    c,
    <WebhooksPage
      principal={c.var.principal}
      csrf={csrfToken(c)}
      endpoints={endpoints}
      notice={webhookNotice(c)}
      {...extra}
    />,
    status,
  );
}

async function webhookPage(
  c: Context<AppEnv>,
  extra: { error?: string; checked?: string[]; values?: { url: string; description: string } } = {},
  status = 200,
) {
  const id = c.req.param('id') ?? '';
  const endpoint = await getWebhookEndpoint(c.var.deps, c.var.principal, id);
  const state = c.req.query('state');
  const filter = filters.find((f) => f === state);
  if (state && !filter) {
    throw new AppError('VALIDATION_FAILED', 'The filters are not valid', {
      issues: [{ path: 'state', message: `one of ${filters.join(', ')}` }],
    });
  }
  const cursor = c.req.query('cursor')?.slice(0, 200) || undefined;
  const page = await listWebhookDeliveries(c.var.deps, c.var.principal, id, {
    state: filter,
    limit: DELIVERIES_PAGE,
    cursor,
  });
  return renderPage(
    c,
    <WebhookPage
      principal={c.var.principal}
      csrf={csrfToken(c)}
      endpoint={endpoint}
      deliveries={page.items}
      filter={filter}
      cursor={cursor}
      nextCursor={page.nextCursor}
      submission={newSubmission}
      notice={webhookNotice(c)}
      {...extra}
    />,
    status,
  );
}

/**
 * The partner's webhooks (owners only: the gate in routes.tsx, and the service checks it
 * again). A signing secret is shown on the page that answers the creation or the rotation,
 * once; it is never in a redirect or stored for a later page.
 */
export function registerWebhookPages(app: WebApp): void {
  app.get('/dashboard/webhooks', (c) => webhooksPage(c));

  app.post('/dashboard/webhooks', async (c) => {
    const form = await formFields(c);
    verifyCsrf(c, form.csrf);
    const values = {
      url: (form.url ?? '').trim(),
      description: (form.description ?? '').trim(),
      events: tickedEvents(form),
    };
    if (values.description.length > 200) {
      return webhooksPage(c, { error: 'A description has at most 200 characters.', values }, 422);
    }
    try {
      const created = await createWebhookEndpoint(c.var.deps, c.var.principal, values, c.var.requestId);
      const { secret, ...endpoint } = created;
      return renderPage(
        c,
        <WebhookSecretPage
          principal={c.var.principal}
          csrf={csrfToken(c)}
          endpoint={endpoint}
          secret={secret}
          rotated={false}
        />,
        201,
      );
    } catch (error) {
      const message = formRefusal(error);
      if (message === null) throw error;
      return webhooksPage(c, { error: message, values }, 422);
    }
  });

  app.get('/dashboard/webhooks/:id', (c) => webhookPage(c));

  app.post('/dashboard/webhooks/:id/settings', async (c) => {
    const form = await formFields(c);
    verifyCsrf(c, form.csrf);
    const id = c.req.param('id');
    const values = { url: (form.url ?? '').trim(), description: (form.description ?? '').trim() };
    const events = tickedEvents(form);
    if (values.description.length > 200) {
      return webhookPage(c, { error: 'A description has at most 200 characters.', checked: events, values }, 422);
    }
    try {
      await updateWebhookEndpoint(c.var.deps, c.var.principal, id, { ...values, events }, c.var.requestId);
    } catch (error) {
      const message = formRefusal(error);
      if (message === null) throw error;
      return webhookPage(c, { error: message, checked: events, values }, 422);
    }
    return c.redirect(`/dashboard/webhooks/${id}?notice=webhook-saved`, 303);
  });

  app.post('/dashboard/webhooks/:id/enabled', async (c) => {
    const form = await formFields(c);
    verifyCsrf(c, form.csrf);
    const id = c.req.param('id');
    if (form.enabled !== 'on' && form.enabled !== 'off') {
      throw new AppError('VALIDATION_FAILED', 'Turn it on or off', {
        issues: [{ path: 'enabled', message: 'on or off' }],
      });
    }
    await updateWebhookEndpoint(c.var.deps, c.var.principal, id, { enabled: form.enabled === 'on' }, c.var.requestId);
    return c.redirect(`/dashboard/webhooks/${id}?notice=webhook-${form.enabled}`, 303);
  });

  app.post('/dashboard/webhooks/:id/test', async (c) => {
    const form = await formFields(c);
    verifyCsrf(c, form.csrf);
    const id = c.req.param('id');
    const sent = await submitOnce(
      c,
      form[SUBMISSION_FIELD],
      async () => {
        await sendWebhookTest(c.var.deps, c.var.principal, id, c.var.requestId);
        return `/dashboard/webhooks/${id}?notice=webhook-test#deliveries`;
      },
      { inCommit: false },
    );
    return c.redirect(sent.location, 303);
  });

  for (const action of ['rotate', 'delete'] as const) {
    app.get(`/dashboard/webhooks/:id/${action}`, async (c) => {
      const endpoint = await getWebhookEndpoint(c.var.deps, c.var.principal, c.req.param('id'));
      return renderPage(
        c,
        <WebhookConfirmPage principal={c.var.principal} csrf={csrfToken(c)} endpoint={endpoint} action={action} />,
      );
    });
  }

  app.post('/dashboard/webhooks/:id/rotate', async (c) => {
    const form = await formFields(c);
    verifyCsrf(c, form.csrf);
    const { secret, ...endpoint } = await rotateWebhookSecret(
      c.var.deps,
      c.var.principal,
      c.req.param('id'),
      c.var.requestId,
    );
    return renderPage(
      c,
      <WebhookSecretPage principal={c.var.principal} csrf={csrfToken(c)} endpoint={endpoint} secret={secret} rotated />,
    );
  });

  app.post('/dashboard/webhooks/:id/delete', async (c) => {
    const form = await formFields(c);
    verifyCsrf(c, form.csrf);
    await deleteWebhookEndpoint(c.var.deps, c.var.principal, c.req.param('id'), c.var.requestId);
    return c.redirect('/dashboard/webhooks?notice=webhook-deleted', 303);
  });

  app.get('/dashboard/webhooks/:id/deliveries/:deliveryId', async (c) => {
    const id = c.req.param('id');
    const endpoint = await getWebhookEndpoint(c.var.deps, c.var.principal, id);
    const delivery = await getWebhookDelivery(c.var.deps, c.var.principal, id, c.req.param('deliveryId'));
    return renderPage(
      c,
      <WebhookDeliveryPage
        principal={c.var.principal}
        csrf={csrfToken(c)}
        endpoint={endpoint}
        delivery={delivery}
        submission={newSubmission()}
      />,
    );
  });

  app.post('/dashboard/webhooks/:id/deliveries/:deliveryId/redeliver', async (c) => {
    const form = await formFields(c);
    verifyCsrf(c, form.csrf);
    const id = c.req.param('id');
    const deliveryId = c.req.param('deliveryId');
    const sent = await submitOnce(
      c,
      form[SUBMISSION_FIELD],
      async () => {
        await redeliverWebhook(c.var.deps, c.var.principal, id, deliveryId, c.var.requestId);
        return `/dashboard/webhooks/${id}?notice=webhook-redelivered#deliveries`;
      },
      { inCommit: false },
    );
    return c.redirect(sent.location, 303);
  });
}
