import { signInMethodTable } from '../../../../core/sign-in-methods.ts';
import type { SessionView } from '../../../../services/accounts/sessions.ts';
import { utcMinute } from '../../shared/format.ts';
import { Layout } from '../../shared/layout.tsx';

/** What the page says after a sign-out it was asked for (`?ended=`); anything else says nothing. */
export const sessionNotices = {
  others: 'Signed out everywhere else: only this browser is still signed in.',
  one: 'That session is signed out.',
  none: 'That session had already ended.',
} as const;

export type SessionNotice = keyof typeof sessionNotices;

const plural = (n: number, unit: string) => `${n} ${unit}${n === 1 ? '' : 's'}`;

/**
 * Where one is signed in: each live session with when it started, when it was last used,
 * the address and browser it was started from; this one marked, the others each with a
 * sign-out button, and "sign out everywhere else".
 */
export function SessionsPage(props: {
  csrf: string;
  sessions: SessionView[];
  idleMinutes: number;
  maxHours: number;
  home: string;
  notice?: string | undefined;
}) {
  const others = props.sessions.filter((s) => !s.current).length;
  return (
    <Layout title="Where you are signed in">
      <h1>Where you are signed in</h1>
      {props.notice ? (
        <p class="ok" role="status">
          {props.notice}
        </p>
      ) : null}
      <p class="muted">
        A session ends after {plural(props.idleMinutes, 'minute')} without activity, and{' '}
        {plural(props.maxHours, 'hour')} after signing in. Changing your password or two-factor sign-in, or a change of
        your access, signs you out everywhere else too. Times are UTC; "last active" is to the minute.
      </p>
      <table>
        <thead>
          <tr>
            <th>Signed in</th>
            <th>How</th>
            <th>Last active</th>
            <th>From</th>
            <th>Browser</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {props.sessions.map((s) => (
            <tr data-testid={s.current ? 'this-session' : undefined}>
              <td class="date">{utcMinute(s.createdAt)}</td>
              <td>{signInMethodTable[s.signInMethod].label}</td>
              <td class="date">{utcMinute(s.lastSeenAt)}</td>
              <td>{s.clientAddress ?? '—'}</td>
              <td>
                <small>{s.userAgent ?? '—'}</small>
              </td>
              <td>
                {s.current ? (
                  <strong>This session</strong>
                ) : (
                  <form method="post" action="/account/sessions/end" style="margin:0">
                    <input type="hidden" name="csrf" value={props.csrf} />
                    <input type="hidden" name="session" value={s.id} />
                    <button type="submit" class="secondary" style="margin:0">
                      Sign out
                    </button>
                  </form>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {others > 0 ? (
        <form method="post" action="/account/sessions/end-others">
          <input type="hidden" name="csrf" value={props.csrf} />
          <button type="submit" class="danger">
            Sign out everywhere else ({plural(others, 'session')})
          </button>
        </form>
      ) : (
        <p>You are not signed in anywhere else.</p>
      )}
      <p>
        <a href="/account">Your account</a> · <a href={props.home}>Back</a>
      </p>
    </Layout>
  );
}
