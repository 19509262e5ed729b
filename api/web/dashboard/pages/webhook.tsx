import { webhookEventWords } from '../../../../core/webhook-events.ts';
import type { PartnerPrincipal } from '../../../../services/shared/principals.ts';
import type { WebhookDeliveryView, WebhookEndpointView } from '../../../../services/webhooks/endpoints.ts';
import { utcMinute, utcSecond } from '../../shared/format.ts';
import { DashboardLayout } from './layout.tsx';
import { EndpointState, EventCheckboxes } from './webhooks.tsx';

const deliveryStates = ['pending', 'delivered', 'failed'] as const;
export type DeliveryFilter = (typeof deliveryStates)[number];

const stateClass = { pending: 'queued', delivered: 'succeeded', failed: 'failed' } as const;

function DeliveryState(props: { state: WebhookDeliveryView['state'] }) {
  return <span class={`state state-${stateClass[props.state]}`}>{props.state}</span>;
}

function Messages(props: { notice?: string | undefined; error?: string | undefined }) {
  return (
    <>
      {props.notice ? <p class="ok">{props.notice}</p> : null}
      {props.error ? (
        <p class="error" role="alert">
          {props.error}
        </p>
      ) : null}
    </>
  );
}

/** A "Send again" button for a delivery that is no longer being tried. */
function RedeliverButton(props: {
  endpointId: string;
  delivery: WebhookDeliveryView;
  csrf: string;
  submission: string;
}) {
  if (props.delivery.state === 'pending') return null;
  return (
    <form
      method="post"
      action={`/dashboard/webhooks/${props.endpointId}/deliveries/${props.delivery.id}/redeliver`}
      class="inline"
    >
      <input type="hidden" name="csrf" value={props.csrf} />
      <input type="hidden" name="submission" value={props.submission} />
      <button type="submit" class="secondary" aria-label={`Send the delivery ${props.delivery.id} again`}>
        Send again
      </button>
    </form>
  );
}

/** One endpoint: its settings, its secret, its deliveries. */
export function WebhookPage(props: {
  principal: PartnerPrincipal;
  csrf: string;
  endpoint: WebhookEndpointView;
  deliveries: WebhookDeliveryView[];
  filter?: DeliveryFilter | undefined;
  cursor?: string | undefined;
  nextCursor: string | null;
  /** A fresh submission key for each form that changes something once. */
  submission: () => string;
  /** The events the settings form shows ticked (what was sent, after a refusal). */
  checked?: readonly string[] | undefined;
  values?: { url: string; description: string } | undefined;
  notice?: string | undefined;
  error?: string | undefined;
}) {
  const e = props.endpoint;
  const base = `/dashboard/webhooks/${e.id}`;
  const values = props.values ?? { url: e.url, description: e.description };
  const listHref = (filter?: DeliveryFilter, cursor?: string) => {
    const q = new URLSearchParams({ ...(filter ? { state: filter } : {}), ...(cursor ? { cursor } : {}) });
    const s = q.toString();
    return `${base}${s ? `?${s}` : ''}#deliveries`;
  };
  return (
    <DashboardLayout title="Webhook" principal={props.principal} csrf={props.csrf} section="/dashboard/webhooks" live>
      <p>
        <a href="/dashboard/webhooks">← All webhooks</a>
      </p>
      <Messages notice={props.notice} error={props.error} />
      <section class="card">
        <h2>{e.url}</h2>
        <dl class="facts">
          <dt>Description</dt>
          <dd>{e.description || '—'}</dd>
          <dt>State</dt>
          <dd>
            <EndpointState endpoint={e} />
          </dd>
          <dt>Events</dt>
          <dd>{e.events.join(', ')}</dd>
          <dt>Created</dt>
          <dd>{`${utcMinute(e.createdAt)} UTC`}</dd>
          <dt>Changed</dt>
          <dd>{`${utcMinute(e.updatedAt)} UTC`}</dd>
          {e.previousSecretUntil ? (
            <>
              <dt>Old secret</dt>
              <dd>{`Still signs beside the new one until ${utcMinute(e.previousSecretUntil)} UTC`}</dd>
            </>
          ) : null}
        </dl>
        <div class="actions">
          <form method="post" action={`${base}/enabled`} class="inline">
            <input type="hidden" name="csrf" value={props.csrf} />
            <input type="hidden" name="enabled" value={e.enabled ? 'off' : 'on'} />
            <button type="submit" class="secondary">
              {e.enabled ? 'Turn off' : 'Turn on'}
            </button>
          </form>
          <form method="post" action={`${base}/test`} class="inline">
            <input type="hidden" name="csrf" value={props.csrf} />
            <input type="hidden" name="submission" value={props.submission()} />
            <button type="submit" class="secondary">
              Send test event
            </button>
          </form>
          <a class="button" href={`${base}/rotate`}>
            Rotate the secret
          </a>
          <a class="button" href={`${base}/delete`}>
            Delete
          </a>
        </div>
        {e.enabled ? null : (
          <p class="muted">
            While it is off, nothing is sent to it and events are not kept for it; a test event sent now fails at once,
            saying so.
          </p>
        )}
      </section>
      <section class="card">
        <h2>Settings</h2>
        <form method="post" action={`${base}/settings`}>
          <input type="hidden" name="csrf" value={props.csrf} />
          <p>
            <label>
              URL
              <br />
              <input type="url" name="url" required maxlength={2000} value={values.url} />
            </label>
          </p>
          <p>
            <label>
              Description
              <br />
              <input type="text" name="description" maxlength={200} value={values.description} />
            </label>
          </p>
          <EventCheckboxes checked={props.checked ?? e.events} />
          <p>
            <button type="submit">Save</button>
          </p>
        </form>
      </section>
      <section class="card" id="deliveries" data-live="deliveries">
        <h2>Recent deliveries</h2>
        <p>
          <a href={listHref()} aria-current={props.filter ? undefined : 'page'}>
            All
          </a>
          {' · '}
          <a href={listHref('failed')} aria-current={props.filter === 'failed' ? 'page' : undefined}>
            Failures
          </a>
          {' · '}
          <a href={listHref('pending')} aria-current={props.filter === 'pending' ? 'page' : undefined}>
            Pending
          </a>
          {' · '}
          <a href={listHref('delivered')} aria-current={props.filter === 'delivered' ? 'page' : undefined}>
            Delivered
          </a>
        </p>
        {props.deliveries.length === 0 ? (
          <p class="muted">{props.filter ? `No ${props.filter} delivery.` : 'Nothing has been sent to it yet.'}</p>
        ) : (
          <div class="scroll">
            <table>
              <thead>
                <tr>
                  <th scope="col">Event</th>
                  <th scope="col">State</th>
                  <th scope="col">Tries</th>
                  <th scope="col">Last status</th>
                  <th scope="col">Next try</th>
                  <th scope="col">Time</th>
                  <th scope="col">
                    <span class="muted">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {props.deliveries.map((d) => (
                  <tr>
                    <td>
                      <a href={`${base}/deliveries/${d.id}`}>{d.eventType}</a>
                      {d.redeliveryOf ? <span class="muted"> (sent again)</span> : null}
                    </td>
                    <td>
                      <DeliveryState state={d.state} />
                    </td>
                    <td>{String(d.attempts)}</td>
                    <td>{d.lastStatus === null ? (d.lastError ? 'no answer' : '—') : String(d.lastStatus)}</td>
                    <td class="date">{d.nextAttemptAt ? utcMinute(d.nextAttemptAt) : '—'}</td>
                    <td class="date">{utcMinute(d.createdAt)}</td>
                    <td>
                      <a href={`${base}/deliveries/${d.id}`}>Details</a>{' '}
                      <RedeliverButton
                        endpointId={e.id}
                        delivery={d}
                        csrf={props.csrf}
                        submission={props.submission()}
                      />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
        {props.cursor || props.nextCursor ? (
          <p>
            {props.cursor ? <a href={listHref(props.filter)}>Newest</a> : null}
            {props.cursor && props.nextCursor ? ' · ' : null}
            {props.nextCursor ? <a href={listHref(props.filter, props.nextCursor)}>Older</a> : null}
          </p>
        ) : null}
      </section>
    </DashboardLayout>
  );
}

/** One delivery: its tries, the receiver's last answer, the body it sends. */
export function WebhookDeliveryPage(props: {
  principal: PartnerPrincipal;
  csrf: string;
  endpoint: WebhookEndpointView;
  delivery: WebhookDeliveryView & { payload: unknown };
  submission: string;
}) {
  const e = props.endpoint;
  const d = props.delivery;
  const words = (webhookEventWords as Record<string, string>)[d.eventType];
  return (
    <DashboardLayout title="Delivery" principal={props.principal} csrf={props.csrf} section="/dashboard/webhooks">
      <p>
        <a href={`/dashboard/webhooks/${e.id}#deliveries`}>{`← ${e.url}`}</a>
      </p>
      <section class="card">
        <h2>{d.eventType}</h2>
        {words ? <p class="muted">{words}</p> : null}
        <dl class="facts">
          <dt>State</dt>
          <dd>
            <DeliveryState state={d.state} />
          </dd>
          <dt>Event id</dt>
          <dd>
            <code>{d.eventId}</code>
          </dd>
          <dt>Tries</dt>
          <dd>{String(d.attempts)}</dd>
          <dt>Last status</dt>
          <dd>{d.lastStatus === null ? '—' : String(d.lastStatus)}</dd>
          <dt>Last try</dt>
          <dd>{d.lastAttemptAt ? `${utcSecond(d.lastAttemptAt)} UTC` : '—'}</dd>
          <dt>Next try</dt>
          <dd>{d.nextAttemptAt ? `${utcSecond(d.nextAttemptAt)} UTC` : '—'}</dd>
          <dt>Delivered</dt>
          <dd>{d.deliveredAt ? `${utcSecond(d.deliveredAt)} UTC` : '—'}</dd>
          <dt>Created</dt>
          <dd>{`${utcSecond(d.createdAt)} UTC`}</dd>
          {d.redeliveryOf ? (
            <>
              <dt>Sent again from</dt>
              <dd>
                <a href={`/dashboard/webhooks/${e.id}/deliveries/${d.redeliveryOf}`}>{d.redeliveryOf}</a>
              </dd>
            </>
          ) : null}
        </dl>
        <div class="actions">
          <RedeliverButton endpointId={e.id} delivery={d} csrf={props.csrf} submission={props.submission} />
        </div>
      </section>
      <section class="card">
        <h2>Error</h2>
        {d.lastError ? <pre class="scroll">{d.lastError}</pre> : <p class="muted">None.</p>}
        <h2>The receiver’s answer (its first 2 KiB)</h2>
        {d.responseExcerpt ? <pre class="scroll">{d.responseExcerpt}</pre> : <p class="muted">None.</p>}
        <h2>The body sent</h2>
        <pre class="scroll">{JSON.stringify(d.payload, null, 2)}</pre>
      </section>
    </DashboardLayout>
  );
}

/** Asks before rotating the secret or deleting the endpoint. */
export function WebhookConfirmPage(props: {
  principal: PartnerPrincipal;
  csrf: string;
  endpoint: WebhookEndpointView;
  action: 'rotate' | 'delete';
}) {
  const e = props.endpoint;
  const rotate = props.action === 'rotate';
  return (
    <DashboardLayout
      title={rotate ? 'Rotate the signing secret' : 'Delete the webhook'}
      principal={props.principal}
      csrf={props.csrf}
      section="/dashboard/webhooks"
    >
      <section class="card">
        <h2>{e.url}</h2>
        <p>
          {rotate
            ? 'A new secret is made and shown to you once. For 24 hours the old one still signs beside it, so your receiver can switch without missing a delivery; rotating again within that time drops the oldest.'
            : 'It is deleted with its deliveries: nothing more is sent to it, and its secret is gone. This cannot be undone.'}
        </p>
        <div class="actions">
          <form method="post" action={`/dashboard/webhooks/${e.id}/${props.action}`} class="inline">
            <input type="hidden" name="csrf" value={props.csrf} />
            <button type="submit" class={rotate ? undefined : 'danger'}>
              {rotate ? 'Rotate the secret' : 'Delete the webhook'}
            </button>
          </form>
          <a href={`/dashboard/webhooks/${e.id}`}>Cancel</a>
        </div>
      </section>
    </DashboardLayout>
  );
}
