import { describeRoles } from '../../../../core/access.ts';
import { AUTO_EXTEND_DAYS } from '../../../../core/offer-rules.ts';
import { describeRole, type Role } from '../../../../core/roles.ts';
import { utcDay } from '../../shared/format.ts';
import { Layout } from '../../shared/layout.tsx';
import { RoleList } from './role-list.tsx';

export interface OfferTermsView {
  partnerName: string;
  /** The roles the client must grant to accept. */
  roles: readonly Role[];
  /** The roles the client may leave out (shown ticked in the accept form). */
  optionalRoles: readonly Role[];
  durationDays: number;
  autoExtend: boolean;
  offerExpiresAt: Date;
  /** Personal links can be declined; reusable links cannot. */
  personal: boolean;
}

/** The facts of an offer, in the words a client's admin needs to decide. */
export function OfferTerms({ terms }: { terms: OfferTermsView }) {
  const endIfToday = new Date(Date.now() + terms.durationDays * 86_400_000);
  return (
    <dl>
      <dt>Partner</dt>
      <dd>{terms.partnerName}</dd>
      <dt>Access</dt>
      <dd>
        {describeRoles(terms.roles)}
        {terms.optionalRoles.length > 0 ? ' (required), and optional roles you may leave out' : ''}.
        <RoleList
          roles={[...terms.roles, ...terms.optionalRoles]}
          note={(role) => (terms.optionalRoles.includes(role) ? 'optional' : 'required')}
        />
      </dd>
      <dt>Never included</dt>
      <dd>Device management (mobile devices) is never included.</dd>
      <dt>Duration</dt>
      <dd>
        {terms.durationDays} days from your acceptance — until {utcDay(endIfToday)} if you accept today.
      </dd>
      <dt>Renewal</dt>
      <dd>
        {terms.autoExtend
          ? `Renews automatically by ${AUTO_EXTEND_DAYS} days at the end, unless you or the partner end it.`
          : 'Does not renew: it ends on that date.'}
      </dd>
      <dt>Ending it</dt>
      <dd>You can end it at any time; every action the partner takes in your organization is recorded.</dd>
      <dt>Offer valid until</dt>
      <dd>{utcDay(terms.offerExpiresAt)}</dd>
    </dl>
  );
}

/**
 * The roles to grant: the required ones as a list, each optional one as a ticked checkbox
 * the client may untick. A checkbox sends `role.<name>` only while ticked.
 */
function RoleChoice({ terms }: { terms: OfferTermsView }) {
  return (
    <fieldset>
      <legend>Roles to grant</legend>
      <p>Required (accepting grants them):</p>
      <RoleList roles={terms.roles} note={() => 'required'} />
      <p>Optional: untick any you do not want to grant.</p>
      {terms.optionalRoles.map((role) => (
        <p class="choice">
          <input id={`role-${role}`} type="checkbox" name={`role.${role}`} value="yes" checked />
          <label for={`role-${role}`}>{describeRole(role)}</label>
        </p>
      ))}
    </fieldset>
  );
}

function Csrf({ token }: { token: string }) {
  return <input type="hidden" name="csrf" value={token} />;
}

/**
 * The second step of declining a personal link: what declining means, and the button
 * that does it (a POST with `confirm=yes`). Opening it changes nothing.
 */
export function DeclineOfferPage(props: { token: string; csrf: string; terms: OfferTermsView }) {
  const { terms, token } = props;
  const partner = terms.partnerName;
  const title = `Decline the offer from ${partner}?`;
  return (
    <Layout title={title}>
      <h1>{title}</h1>
      <dl>
        <dt>Partner</dt>
        <dd>{partner}</dd>
        <dt>It asks for</dt>
        <dd>{describeRoles(terms.roles)}</dd>
      </dl>
      <p>If you decline:</p>
      <ul>
        <li>{partner} gets no access to your organization.</li>
        <li>
          This link stops working: nobody can accept it afterwards, and it cannot be undone. To work with {partner}{' '}
          later, ask them for a new offer.
        </li>
        <li>{partner} is told that you declined.</li>
      </ul>
      <form method="post" action={`/offers/${token}/decline`}>
        <Csrf token={props.csrf} />
        <input type="hidden" name="confirm" value="yes" />
        <button type="submit" class="danger">
          Decline the offer
        </button>
      </form>
      <p>
        <a href={`/offers/${token}`}>Back to the offer</a>
      </p>
    </Layout>
  );
}

export interface OfferPageProps {
  token: string;
  csrf: string;
  terms: OfferTermsView;
  who: 'anonymous' | 'client-admin' | 'not-allowed';
  viewer: { email: string; orgName: string } | null;
  /** A problem with the last form sent, shown above the forms. */
  error?: string | undefined;
  /** What was typed in the last form, to fill it again (never the password). */
  values?: Record<string, string> | undefined;
}

export function OfferPage(props: OfferPageProps) {
  const { terms, token, csrf, values = {} } = props;
  const action = (path: string) => `/offers/${token}/${path}`;
  return (
    <Layout title={`Offer from ${terms.partnerName}`}>
      <h1>{terms.partnerName} asks to administer your organization</h1>
      <p>
        {terms.partnerName} offers to act as a delegated administrator of your organization. Read what this means, then
        accept or decline.
      </p>
      <OfferTerms terms={terms} />
      {props.error ? (
        <p class="error" role="alert">
          {props.error}
        </p>
      ) : null}

      {props.who === 'client-admin' && props.viewer ? (
        <section>
          <p>
            Signed in as {props.viewer.email}, global administrator of {props.viewer.orgName}.
          </p>
          <form method="post" action={action('accept')}>
            <Csrf token={csrf} />
            {terms.optionalRoles.length > 0 ? <RoleChoice terms={terms} /> : null}
            <button type="submit">Accept and grant access</button>
          </form>
        </section>
      ) : null}

      {props.who === 'not-allowed' && props.viewer ? (
        <p class="error">
          You are signed in as {props.viewer.email}, which is not a global administrator of a client organization. Only
          a global administrator of the organization can accept this offer.
        </p>
      ) : null}

      {props.who === 'anonymous' ? (
        <section>
          <h2>Accept as a global administrator</h2>
          <form method="post" action={action('sign-in')}>
            <fieldset>
              <legend>Sign in</legend>
              <Csrf token={csrf} />
              <label for="signin-email">Email</label>
              <input
                id="signin-email"
                type="email"
                name="email"
                autocomplete="username"
                required
                value={values.email ?? ''}
              />
              <label for="signin-password">Password</label>
              <input id="signin-password" type="password" name="password" autocomplete="current-password" required />
              <button type="submit">Sign in</button>
            </fieldset>
          </form>
          <form method="post" action={action('create-org')}>
            <fieldset>
              <legend>New here? Create your organization</legend>
              <Csrf token={csrf} />
              <label for="org-name">Organization name</label>
              <input id="org-name" type="text" name="orgName" required maxlength={200} value={values.orgName ?? ''} />
              <label for="admin-name">Your name</label>
              <input
                id="admin-name"
                type="text"
                name="adminName"
                required
                maxlength={200}
                value={values.adminName ?? ''}
              />
              <label for="admin-email">Your email</label>
              <input
                id="admin-email"
                type="email"
                name="email"
                autocomplete="username"
                required
                value={values.newEmail ?? ''}
              />
              <label for="admin-password">Choose a password (at least 12 characters)</label>
              <input
                id="admin-password"
                type="password"
                name="password"
                autocomplete="new-password"
                required
                minlength={12}
              />
              <button type="submit">Create the organization</button>
              <p>
                <small>You become its global administrator.</small>
              </p>
            </fieldset>
          </form>
        </section>
      ) : null}

      {terms.personal && props.who !== 'not-allowed' ? (
        // Only asks: the confirmation page says what declining means and declines.
        <form method="get" action={action('decline')}>
          <button type="submit" class="secondary">
            Decline this offer
          </button>
        </form>
      ) : null}

      {props.viewer ? (
        <form method="post" action="/sign-out">
          <Csrf token={csrf} />
          <input type="hidden" name="next" value={`/offers/${token}`} />
          <button type="submit" class="secondary">
            Sign out
          </button>
        </form>
      ) : null}
    </Layout>
  );
}
