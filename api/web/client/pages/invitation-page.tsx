import { describeRoles } from '../../../../core/access.ts';
import type { Role } from '../../../../core/roles.ts';
import { utcMinute } from '../../shared/format.ts';
import { Layout } from '../../shared/layout.tsx';

/** Behind the link of a staff invitation: what is offered, and the password to choose to accept. */
export function InvitationPage(props: {
  partnerName: string;
  email: string;
  displayName: string;
  roles: Role[];
  expiresAt: Date;
  action: string;
  csrf: string;
  error?: string | undefined;
}) {
  return (
    <Layout title={`Join ${props.partnerName}`}>
      <h1>{`${props.partnerName} invites you to Mandate as staff`}</h1>
      <dl>
        <dt>Your address</dt>
        <dd>{props.email}</dd>
        <dt>Your name</dt>
        <dd>{props.displayName}</dd>
        <dt>Access in the clients they support</dt>
        <dd>{describeRoles(props.roles)}</dd>
        <dt>Invitation valid until</dt>
        <dd>{`${utcMinute(props.expiresAt)} UTC`}</dd>
      </dl>
      {props.error ? (
        <p class="error" role="alert">
          {props.error}
        </p>
      ) : null}
      <form method="post" action={props.action}>
        <input type="hidden" name="csrf" value={props.csrf} />
        <label for="password">Choose a password (at least 12 characters)</label>
        <input id="password" type="password" name="password" autocomplete="new-password" required minlength={12} />
        <label for="repeat">The same again</label>
        <input id="repeat" type="password" name="repeat" autocomplete="new-password" required minlength={12} />
        <button type="submit">Accept and join</button>
      </form>
      <p class="muted">If you did not expect this invitation, close this page: nothing is created until you accept.</p>
    </Layout>
  );
}
