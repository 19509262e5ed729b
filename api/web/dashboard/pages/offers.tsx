import type { FieldIssue } from '../../../../core/errors.ts';
import {
  DEFAULT_DURATION_DAYS,
  DEFAULT_OFFER_EXPIRY_DAYS,
  MAX_DURATION_DAYS,
  MAX_OFFER_EXPIRY_DAYS,
} from '../../../../core/offer-rules.ts';
import { roleCatalogue, roles } from '../../../../core/roles.ts';
import type { OfferDetails, OfferView } from '../../../../services/offers/offers.ts';
import type { PartnerPrincipal } from '../../../../services/shared/principals.ts';
import { utcMinute } from '../../shared/format.ts';
import { SUBMISSION_FIELD } from '../submit-once.ts';
import { DashboardLayout } from './layout.tsx';

/** Open, withdrawn or expired, in words (the page's clock: a minute off changes nothing shown). */
function offerState(offer: Pick<OfferView, 'revokedAt' | 'expiresAt'>): 'open' | 'withdrawn' | 'expired' {
  if (offer.revokedAt) return 'withdrawn';
  return Date.parse(offer.expiresAt) <= Date.now() ? 'expired' : 'open';
}

/** The roles an offer asks for, the optional ones marked. */
function RolesAsked(props: { roles: OfferView['roles'] }) {
  return (
    <span>
      {props.roles
        .map(({ role, optional }) => `${roleCatalogue[role].label}${optional ? ' (optional)' : ''}`)
        .join(', ')}
    </span>
  );
}

/** A label that reads as text, inside a form whose field labels are headings (form.filters). */
const plainLabel = 'display:inline;font-size:inherit;font-weight:400';

/** What the create form was sent with, to show again beside its problems. */
export type OfferFormValues = Record<string, string>;

export function OfferListPage(props: {
  principal: PartnerPrincipal;
  csrf: string;
  /** A fresh submission key for the form (../submit-once.ts). */
  submission: string;
  offers: OfferView[];
  nextCursor: string | null;
  mayCreate: boolean;
  notice?: string | undefined;
  issues?: FieldIssue[] | undefined;
  values?: OfferFormValues | undefined;
}) {
  return (
    <DashboardLayout title="Offers" principal={props.principal} csrf={props.csrf} section="/dashboard/offers">
      {props.notice ? <p class="ok">{props.notice}</p> : null}
      <section class="card">
        {props.offers.length === 0 ? (
          <p class="muted">No offer yet.</p>
        ) : (
          <table>
            <thead>
              <tr>
                <th scope="col">Offer</th>
                <th scope="col">Roles asked for</th>
                <th scope="col" class="num">
                  Days
                </th>
                <th scope="col">Auto-extend</th>
                <th scope="col">Link works until</th>
                <th scope="col">State</th>
              </tr>
            </thead>
            <tbody>
              {props.offers.map((o) => (
                <tr data-offer={o.id}>
                  <td>
                    <a href={`/dashboard/offers/${o.id}`}>{o.name}</a>
                  </td>
                  <td>
                    <RolesAsked roles={o.roles} />
                  </td>
                  <td class="num">{o.durationDays}</td>
                  <td>{o.autoExtend ? 'yes' : 'no'}</td>
                  <td class="date">{utcMinute(o.expiresAt)}</td>
                  <td>{offerState(o)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        {props.nextCursor ? (
          <p>
            <a href={`/dashboard/offers?${new URLSearchParams({ cursor: props.nextCursor })}`}>Older offers</a>
          </p>
        ) : null}
      </section>
      {props.mayCreate ? (
        <CreateOfferForm csrf={props.csrf} submission={props.submission} issues={props.issues} values={props.values} />
      ) : null}
    </DashboardLayout>
  );
}

function CreateOfferForm(props: {
  csrf: string;
  /** A fresh submission key for the form (../submit-once.ts). */
  submission: string;
  issues?: FieldIssue[] | undefined;
  values?: OfferFormValues | undefined;
}) {
  const v = props.values;
  const ticked = (name: string) => v?.[name] === 'on';
  return (
    <section class="card">
      <h2>New offer</h2>
      <p class="muted">
        An offer asks a client for roles in its organization, for a time. Its link can be sent to any number of clients
        (pasted into an email, a document or a web page), or the offer emailed to a list of recipients as a campaign.
      </p>
      {props.issues && props.issues.length > 0 ? (
        <div class="error" role="alert">
          <p>The offer was not created:</p>
          <ul>
            {props.issues.map((issue) => (
              <li>{`${issue.path}: ${issue.message}`}</li>
            ))}
          </ul>
        </div>
      ) : null}
      <form method="post" action="/dashboard/offers" autocomplete="off" class="filters">
        <input type="hidden" name="csrf" value={props.csrf} />
        <input type="hidden" name={SUBMISSION_FIELD} value={props.submission} />
        <label>
          Name (what your clients read)
          <input type="text" name="name" required maxlength={200} value={v?.name ?? ''} />
        </label>
        <label>
          {`Lasts, once accepted (days, 1–${MAX_DURATION_DAYS})`}
          <input
            type="number"
            name="durationDays"
            min={1}
            max={MAX_DURATION_DAYS}
            value={v?.durationDays ?? String(DEFAULT_DURATION_DAYS)}
            required
          />
        </label>
        <label>
          {`Link works for (days, 1–${MAX_OFFER_EXPIRY_DAYS})`}
          <input
            type="number"
            name="expiresInDays"
            min={1}
            max={MAX_OFFER_EXPIRY_DAYS}
            value={v?.expiresInDays ?? String(DEFAULT_OFFER_EXPIRY_DAYS)}
            required
          />
        </label>
        <fieldset style="flex-basis:100%">
          <legend>Roles asked for (at least one required)</legend>
          <table>
            <thead>
              <tr>
                <th scope="col">Ask for</th>
                <th scope="col">Role</th>
                <th scope="col">The client may leave it out</th>
              </tr>
            </thead>
            <tbody>
              {roles.map((role) => (
                <tr>
                  <td>
                    <input
                      type="checkbox"
                      id={`role-${role}`}
                      name={`role:${role}`}
                      value="on"
                      checked={ticked(`role:${role}`)}
                    />
                  </td>
                  <td>
                    {/* A plain label: the form's own labels (form.filters) are small column headings. */}
                    <label for={`role-${role}`} style={plainLabel}>
                      <strong>{roleCatalogue[role].label}</strong>
                      <span class="muted">{` — ${roleCatalogue[role].description}`}</span>
                    </label>
                  </td>
                  <td>
                    <input
                      type="checkbox"
                      name={`optional:${role}`}
                      value="on"
                      aria-label={`${roleCatalogue[role].label} is optional`}
                      checked={ticked(`optional:${role}`)}
                    />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </fieldset>
        <p style="flex-basis:100%">
          <label style={plainLabel}>
            <input type="checkbox" name="autoExtend" value="on" checked={ticked('autoExtend')} />
            {' Renew by 180 days at the end (not with Global administrator)'}
          </label>
        </p>
        <button type="submit">Create the offer</button>
      </form>
    </section>
  );
}

export function OfferPage(props: {
  principal: PartnerPrincipal;
  csrf: string;
  /** A fresh submission key for the form (../submit-once.ts). */
  submission: string;
  offer: OfferDetails;
  mayChange: boolean;
  notice?: string | undefined;
}) {
  const { offer } = props;
  const state = offerState(offer);
  return (
    <DashboardLayout
      title={`Offer: ${offer.name}`}
      principal={props.principal}
      csrf={props.csrf}
      section="/dashboard/offers"
    >
      {props.notice ? <p class="ok">{props.notice}</p> : null}
      <section class="card">
        <dl class="facts">
          <dt>State</dt>
          <dd data-testid="offer-state">{state}</dd>
          <dt>Roles asked for</dt>
          <dd>
            <RolesAsked roles={offer.roles} />
          </dd>
          <dt>Lasts, once accepted</dt>
          <dd>{`${offer.durationDays} days${offer.autoExtend ? ', renewed by 180 days at the end' : ''}`}</dd>
          <dt>Link works until</dt>
          <dd>{utcMinute(offer.expiresAt)}</dd>
          <dt>Created</dt>
          <dd>{utcMinute(offer.createdAt)}</dd>
          {offer.revokedAt ? (
            <>
              <dt>Withdrawn</dt>
              <dd>{utcMinute(offer.revokedAt)}</dd>
            </>
          ) : null}
        </dl>
      </section>
      <section class="card">
        <h2>Reusable link</h2>
        {offer.link.shown ? (
          <>
            <p class="muted">
              Any number of clients may accept the offer with this link: paste it into an email, a document or a web
              page. {state === 'open' ? '' : 'It no longer works: the offer is not open.'}
            </p>
            <p>
              <label>
                {'Link '}
                <input
                  type="text"
                  readonly
                  value={offer.link.url}
                  data-testid="offer-link"
                  style="width:100%;max-width:48rem"
                />
              </label>
            </p>
          </>
        ) : (
          <p class="muted" data-testid="offer-link-hidden">
            {offer.link.why === 'not-yours'
              ? 'The link is shown to the partner’s owners and to whoever made the offer.'
              : 'This offer’s link was shown once, when it was made (before links could be shown again); it still works where it was sent.'}
          </p>
        )}
      </section>
      {props.mayChange && state === 'open' ? (
        <div class="actions">
          <a class="button" href={`/dashboard/campaigns/new?${new URLSearchParams({ offerId: offer.id })}`}>
            Send this offer to a list of recipients…
          </a>
        </div>
      ) : null}
      {props.mayChange && state === 'open' ? (
        <section class="card">
          <h2>Withdraw</h2>
          <p>
            The link stops working, and every recipient of its campaigns who has not answered yet is withdrawn: their
            email's link stops working too. Delegations already accepted stay as they are.
          </p>
          <form method="post" action={`/dashboard/offers/${offer.id}/revoke`} autocomplete="off">
            <input type="hidden" name="csrf" value={props.csrf} />
            <input type="hidden" name={SUBMISSION_FIELD} value={props.submission} />
            <button type="submit" class="secondary">
              Withdraw this offer
            </button>
          </form>
        </section>
      ) : null}
    </DashboardLayout>
  );
}
