import { subscribableEventTypes, type WebhookEventType, webhookEventWords } from '../../../../core/webhook-events.ts';
import type { PartnerPrincipal } from '../../../../services/shared/principals.ts';
import type { WebhookEndpointView } from '../../../../services/webhooks/endpoints.ts';
import { utcMinute } from '../../shared/format.ts';
import { DashboardLayout } from './layout.tsx';

/** What the add form held, to show it again after a refusal. */
export interface WebhookFormValues {
  url: string;
  description: string;
  events: readonly string[];
}

/** On, or off and why. */
export function EndpointState(props: { endpoint: WebhookEndpointView }) {
  const e = props.endpoint;
  if (e.enabled) return <span class="state state-active">on</span>;
  return (
    <span>
      <span class="state state-failed">off</span>
      {e.disabledReason ? <span class="muted">{` ${e.disabledReason}`}</span> : null}
    </span>
  );
}

/** The event types as checkboxes named `event:<type>`, each with its words. */
export function EventCheckboxes(props: { checked: readonly string[] }) {
  return (
    <fieldset class="choices">
      <legend>Events (what is sent to it)</legend>
      {subscribableEventTypes.map((type: WebhookEventType) => (
        <label>
          <input type="checkbox" name={`event:${type}`} value="on" checked={props.checked.includes(type)} />{' '}
          <code>{type}</code>
          {` — ${webhookEventWords[type]}`}
        </label>
      ))}
    </fieldset>
  );
}

/** The partner's webhook endpoints (owners only): the list and a form to add one. */
export function WebhooksPage(props: {
  principal: PartnerPrincipal;
  csrf: string;
  endpoints: WebhookEndpointView[];
  notice?: string | undefined;
  error?: string | undefined;
  values?: WebhookFormValues | undefined;
}) {
  const values = props.values ?? { url: '', description: '', events: [] };
  return (
    <DashboardLayout title="Webhooks" principal={props.principal} csrf={props.csrf} section="/dashboard/webhooks">
      {props.notice ? <p class="ok">{props.notice}</p> : null}
      {props.error ? (
        <p class="error" role="alert">
          {props.error}
        </p>
      ) : null}
      <section class="card">
        <h2>Your webhooks</h2>
        <p class="muted">
          Mandate posts the events each one subscribes to, signed with its own secret (Standard Webhooks), and retries a
          failed delivery for about three days.
        </p>
        {props.endpoints.length === 0 ? (
          <p class="muted">You have no webhook.</p>
        ) : (
          <div class="scroll">
            <table>
              <thead>
                <tr>
                  <th scope="col">URL</th>
                  <th scope="col">Description</th>
                  <th scope="col">Events</th>
                  <th scope="col">State</th>
                  <th scope="col">Created</th>
                </tr>
              </thead>
              <tbody>
                {props.endpoints.map((e) => (
                  <tr>
                    <td>
                      <a href={`/dashboard/webhooks/${e.id}`}>{e.url}</a>
                    </td>
                    <td>{e.description}</td>
                    <td>{String(e.events.length)}</td>
                    <td>
                      <EndpointState endpoint={e} />
                    </td>
                    <td class="date">{utcMinute(e.createdAt)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
      <section class="card">
        <h2>Add a webhook</h2>
        <form method="post" action="/dashboard/webhooks">
          <input type="hidden" name="csrf" value={props.csrf} />
          <p>
            <label>
              URL (https, reachable from the internet)
              <br />
              <input type="url" name="url" required maxlength={2000} value={values.url} />
            </label>
          </p>
          <p>
            <label>
              Description (optional)
              <br />
              <input type="text" name="description" maxlength={200} value={values.description} />
            </label>
          </p>
          <EventCheckboxes checked={values.events} />
          <p>
            <button type="submit">Add</button>
          </p>
        </form>
      </section>
    </DashboardLayout>
  );
}

/** A signing secret, shown this once: after creating an endpoint or rotating its secret. */
export function WebhookSecretPage(props: {
  principal: PartnerPrincipal;
  csrf: string;
  endpoint: WebhookEndpointView;
  secret: string;
  rotated: boolean;
}) {
  const e = props.endpoint;
  return (
    <DashboardLayout
      title={props.rotated ? 'New signing secret' : 'Webhook added'}
      principal={props.principal}
      csrf={props.csrf}
      section="/dashboard/webhooks"
    >
      <section class="card ok">
        <h2>{props.rotated ? `The new signing secret of ${e.url}` : `The signing secret of ${e.url}`}</h2>
        <p class="error" role="alert">
          Copy it now: it is not shown again. Mandate keeps it sealed and cannot display it later.
        </p>
        <p>
          <code>{props.secret}</code>
        </p>
        {props.rotated ? (
          <p>
            {e.previousSecretUntil
              ? `The old secret still signs beside the new one until ${utcMinute(e.previousSecretUntil)} UTC (24 hours): switch your receiver over before then.`
              : 'The old secret still signs beside the new one for 24 hours: switch your receiver over before then.'}
          </p>
        ) : (
          <p>Your receiver checks each delivery's `webhook-signature` header with it.</p>
        )}
      </section>
      <p>
        <a href={`/dashboard/webhooks/${e.id}`}>Go to the webhook</a> · <a href="/dashboard/webhooks">All webhooks</a>
      </p>
    </DashboardLayout>
  );
}
