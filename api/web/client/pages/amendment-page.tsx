import type { AmendmentChange, DelegationTerms } from '../../../../core/amendment-rules.ts';
import { compareTerms, describeChange } from '../../../../core/amendment-words.ts';
import { utcDay } from '../../shared/format.ts';
import { Layout } from '../../shared/layout.tsx';

export interface AmendmentFacts {
  token: string;
  partnerName: string;
  clientName: string;
  change: AmendmentChange;
  before: DelegationTerms;
  after: DelegationTerms;
  expiresAt: Date | null;
}

function Csrf({ token }: { token: string }) {
  return <input type="hidden" name="csrf" value={token} />;
}

/** The terms before → after, line by line, each in plain words; changed lines marked. */
export function TermsComparison(props: {
  before: DelegationTerms;
  after: DelegationTerms;
  headings?: [before: string, after: string];
}) {
  const [beforeHeading, afterHeading] = props.headings ?? ['Now', 'After the change'];
  return (
    <table id="amendment-terms">
      <thead>
        <tr>
          <th scope="col">
            <span class="muted">Term</span>
          </th>
          <th scope="col">{beforeHeading}</th>
          <th scope="col">{afterHeading}</th>
        </tr>
      </thead>
      <tbody>
        {compareTerms(props.before, props.after).map((line) => (
          <tr data-changed={line.changed ? 'yes' : 'no'}>
            <th scope="row">{line.label}</th>
            <td>{line.before}</td>
            <td>
              {line.changed ? <strong>{line.after}</strong> : <span class="muted">{line.after} (unchanged)</span>}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function SignOut(props: { csrf: string; next: string }) {
  return (
    <form method="post" action="/sign-out">
      <Csrf token={props.csrf} />
      <input type="hidden" name="next" value={props.next} />
      <button type="submit" class="secondary">
        Sign out
      </button>
    </form>
  );
}

/** What the partner asks for, with Accept and Decline, for a signed-in global admin of the organization. */
export function AmendmentPage(props: { facts: AmendmentFacts; csrf: string; viewerEmail: string }) {
  const f = props.facts;
  const action = (path: string) => `/amendments/${f.token}/${path}`;
  return (
    <Layout title={`Change asked by ${f.partnerName}`}>
      <h1>
        {f.partnerName} asks for more delegated administration of {f.clientName}
      </h1>
      <p>
        Nothing changes unless you accept. If you accept, the change applies at once to the delegation {f.clientName}{' '}
        already granted; {f.partnerName} cannot make it without you.
      </p>
      <ul id="amendment-change">
        {describeChange(f.change).map((sentence) => (
          <li>{sentence}</li>
        ))}
      </ul>
      <TermsComparison before={f.before} after={f.after} />
      <p class="muted">Device management (mobile devices) is never included.</p>
      {f.expiresAt ? <p class="muted">Without an answer by {utcDay(f.expiresAt)}, nothing changes.</p> : null}
      <p>
        Signed in as {props.viewerEmail}, global administrator of {f.clientName}.
      </p>
      <form method="post" action={action('accept')}>
        <Csrf token={props.csrf} />
        <button type="submit">Accept the change</button>
      </form>
      <form method="post" action={action('decline')}>
        <Csrf token={props.csrf} />
        <button type="submit" class="secondary">
          Decline the change
        </button>
      </form>
      <p>
        <a href="/org/delegations">See and end your organization's delegations</a>
      </p>
      <SignOut csrf={props.csrf} next={`/amendments/${f.token}`} />
    </Layout>
  );
}

/** Nobody is signed in: the admin signs in here (the client sign-in), then sees the change. */
export function AmendmentSignInPage(props: {
  facts: Pick<AmendmentFacts, 'token' | 'partnerName' | 'clientName'>;
  csrf: string;
  error?: string | undefined;
  email?: string | undefined;
}) {
  const f = props.facts;
  return (
    <Layout title={`Change asked by ${f.partnerName}`}>
      <h1>
        {f.partnerName} asks to change its delegated administration of {f.clientName}
      </h1>
      <p>Sign in as a global administrator of {f.clientName} to see the change and accept or decline it.</p>
      {props.error ? (
        <p class="error" role="alert">
          {props.error}
        </p>
      ) : null}
      <form method="post" action={`/amendments/${f.token}/sign-in`}>
        <Csrf token={props.csrf} />
        <label for="email">Email</label>
        <input id="email" type="email" name="email" autocomplete="username" required value={props.email ?? ''} />
        <label for="password">Password</label>
        <input id="password" type="password" name="password" autocomplete="current-password" required />
        <button type="submit">Sign in</button>
      </form>
    </Layout>
  );
}

/** Signed in with an account that may not answer (another organization, or not a global admin). */
export function AmendmentNotAllowedPage(props: { token: string; csrf: string; viewerEmail: string }) {
  return (
    <Layout title="Not allowed">
      <h1>Not allowed</h1>
      <p class="error">
        You are signed in as {props.viewerEmail}. This request can only be seen and answered by a global administrator
        of the organization it was sent to. Sign out, then sign in with such an account.
      </p>
      <SignOut csrf={props.csrf} next={`/amendments/${props.token}`} />
    </Layout>
  );
}

/** After an answer: what happened; accepted, the terms before and now; declined, those kept and those refused. */
export function AmendmentAnsweredPage(props: {
  answer: 'accepted' | 'declined';
  partnerName: string;
  before: DelegationTerms;
  after: DelegationTerms;
}) {
  const title = props.answer === 'accepted' ? 'Change accepted' : 'Change declined';
  return (
    <Layout title={title}>
      <h1>{title}</h1>
      <p class="ok" id="amendment-outcome" data-answer={props.answer}>
        {props.answer === 'accepted'
          ? `You accepted. The change is in effect now; ${props.partnerName} and your other global administrators have been emailed.`
          : `You declined. Nothing has changed; ${props.partnerName} has been told.`}
      </p>
      <TermsComparison
        before={props.before}
        after={props.after}
        headings={props.answer === 'accepted' ? ['Before', 'Now'] : ['Kept', 'Asked for, declined']}
      />
      <p>
        <a href="/org/delegations">See and end your organization's delegations</a>
      </p>
    </Layout>
  );
}
