import { and, desc, eq, ne, not, type SQL, sql } from 'drizzle-orm';
import { STEP_UP_MINUTES } from '../../core/second-factor.ts';
import { type SignInMethod, signInMethodTable } from '../../core/sign-in-methods.ts';
import type { Db, DbOrTx } from '../../db/client.ts';
import { organizations, sessions, signInChallenges, users } from '../../db/schema/index.ts';
import type { Config } from '../../lib/config.ts';
import type { Deps } from '../../lib/deps.ts';
import { randomToken, sha256Hex } from '../../lib/secrets.ts';
import { userHasSecondFactor } from '../shared/users.ts';
import { recordOwnAudit } from './second-factor.ts';

/** The person behind a browser session. */
export interface Viewer {
  userId: string;
  email: string;
  displayName: string;
  orgId: string;
  orgKind: 'partner' | 'client';
  orgName: string;
  isGlobalAdmin: boolean;
  /** Signed in with a temporary password: must choose a new one before anything else. */
  mustChangePassword: boolean;
  /** Their organization requires two-factor sign-in and they have no second factor: must set one up first. */
  mustEnrolSecondFactor: boolean;
  /** This session passed a second factor within STEP_UP_MINUTES (core/second-factor.ts). */
  secondFactorFresh: boolean;
  /** This session began within STEP_UP_MINUTES: its password (or more) was entered just now. */
  recentlySignedIn: boolean;
}

/** Where a session is used from, as the request says: shown to its user on the sessions page. */
export interface SessionClient {
  /** The client's address as the rate limits see it (an IPv6 address as its /64). */
  address: string;
  userAgent: string | undefined;
}

/** The limits of a session (lib/config.ts: SESSION_IDLE_MINUTES, SESSION_MAX_HOURS). */
type SessionLimits = Pick<Config, 'sessionIdleMinutes' | 'sessionMaxHours'>;

/** Longest user agent kept: enough to tell browsers apart, not a place to store a payload. */
const USER_AGENT_CHARS = 200;
const ADDRESS_CHARS = 64;

/**
 * When a request should write to its session: last_seen_at moves at most once a minute, so
 * a busy page does not write on every request (the idle limit is judged to within that
 * minute).
 */
const touchDue = sql`${sessions.lastSeenAt} <= now() - interval '1 minute'`;

const clientColumns = (client: SessionClient) => ({
  clientAddress: client.address.slice(0, ADDRESS_CHARS),
  userAgent: client.userAgent ? client.userAgent.slice(0, USER_AGENT_CHARS) : null,
});

/** Live: younger than the lifetime and seen within the idle limit — by the database clock. */
function live(limits: SessionLimits): SQL {
  return sql`(${sessions.createdAt} > now() - make_interval(hours => ${limits.sessionMaxHours})
    and ${sessions.lastSeenAt} > now() - make_interval(mins => ${limits.sessionIdleMinutes}))`;
}

/** How a session begins: the way its user signed in, and whether a second factor was passed doing so. */
export interface SessionStart {
  method: SignInMethod;
  /** A second factor was passed at this sign-in (the default: whether the method is a strong one). */
  secondFactor?: boolean;
}

/**
 * Starts a session; returns the cookie value (only its hash is stored). `client` is where
 * the sign-in came from, kept for its user to recognise it on the sessions page.
 */
export async function createSession(
  db: DbOrTx,
  userId: string,
  client: SessionClient,
  start: SessionStart = { method: 'password' },
): Promise<string> {
  const token = randomToken(32);
  const secondFactor = start.secondFactor ?? signInMethodTable[start.method].strong;
  await db.insert(sessions).values({
    id: sha256Hex(token),
    userId,
    ...clientColumns(client),
    signInMethod: start.method,
    secondFactorAt: secondFactor ? sql`now()` : null,
  });
  return token;
}

/** The id a session is stored under: the SHA-256 of its cookie's token (null for no or a malformed cookie). */
export function sessionIdOf(token: string | undefined): string | null {
  return token && /^[A-Za-z0-9_-]{43}$/.test(token) ? sha256Hex(token) : null;
}

/**
 * Who a session cookie signs in, if its session is live; every page request goes through
 * here, so this is where the idle and absolute limits hold. Counts as activity unless
 * told otherwise: the session's last_seen_at moves to now, at most once a minute.
 */
export async function findViewer(
  deps: Pick<Deps, 'db' | 'config'>,
  token: string | undefined,
  options: { activity?: boolean } = {},
): Promise<Viewer | null> {
  const id = sessionIdOf(token);
  if (!id) return null;
  const [row] = await deps.db
    .select({
      userId: users.id,
      email: users.email,
      displayName: users.displayName,
      orgId: organizations.id,
      orgKind: organizations.kind,
      orgName: organizations.name,
      isGlobalAdmin: users.isGlobalAdmin,
      mustChangePassword: users.mustChangePassword,
      mustEnrolSecondFactor: sql<boolean>`(${organizations.requireTwoFactor} and not ${userHasSecondFactor})`,
      secondFactorFresh: sql<boolean>`coalesce(${sessions.secondFactorAt} > now() - make_interval(mins => ${STEP_UP_MINUTES}), false)`,
      recentlySignedIn: sql<boolean>`${sessions.createdAt} > now() - make_interval(mins => ${STEP_UP_MINUTES})`,
      due: sql<boolean>`${touchDue}`,
    })
    .from(sessions)
    .innerJoin(users, eq(users.id, sessions.userId))
    .innerJoin(organizations, eq(organizations.id, users.orgId))
    .where(and(eq(sessions.id, id), live(deps.config)));
  if (!row) return null;
  const { due, ...viewer } = row;
  // Guarded like the read, so requests racing in the same minute write once. A request
  // the page makes by itself (`activity: false`) is not the person being there.
  if (due && options.activity !== false)
    await deps.db
      .update(sessions)
      .set({ lastSeenAt: sql`now()` })
      .where(and(eq(sessions.id, id), touchDue));
  return viewer;
}

export async function endSession(db: Db, token: string | undefined): Promise<void> {
  if (token) await db.delete(sessions).where(eq(sessions.id, sha256Hex(token)));
}

/**
 * Ends every session of a user (after a password change, say) — but the one `except`
 * names, when given: the session of the user who changed their own password — and every
 * sign-in of theirs waiting for its second step (begun, perhaps, with the old password).
 */
export async function endAllSessions(db: DbOrTx, userId: string, options: { except?: string } = {}): Promise<void> {
  await endSessionsQuery(db, userId, options);
  await endSignInChallengesQuery(db, userId);
}

/** Ends the user's sign-ins waiting for their second step, as a query not yet sent. */
export function endSignInChallengesQuery(db: DbOrTx, userId: string) {
  return db.delete(signInChallenges).where(eq(signInChallenges.userId, userId));
}

/** {@link endAllSessions} as a query not yet sent, for callers that send it with others. */
export function endSessionsQuery(db: DbOrTx, userId: string, options: { except?: string } = {}) {
  const others = options.except === undefined ? undefined : ne(sessions.id, options.except);
  return db.delete(sessions).where(and(eq(sessions.userId, userId), others));
}

/** One of a user's sessions as their sessions page shows it. */
export interface SessionView {
  /** The stored id (the cookie token's SHA-256): names the session in a form, signs nobody in. */
  id: string;
  createdAt: Date;
  lastSeenAt: Date;
  clientAddress: string | null;
  userAgent: string | null;
  /** How it was signed in. */
  signInMethod: SignInMethod;
  /** The session this request came with. */
  current: boolean;
}

/** The signed-in user and the session they are using, for the verbs on their own sessions. */
export interface SessionOwner {
  userId: string;
  sessionId: string;
}

/** A user's live sessions, the most recently used first. */
export async function listOwnSessions(deps: Pick<Deps, 'db' | 'config'>, owner: SessionOwner): Promise<SessionView[]> {
  const rows = await deps.db
    .select({
      id: sessions.id,
      createdAt: sessions.createdAt,
      lastSeenAt: sessions.lastSeenAt,
      clientAddress: sessions.clientAddress,
      userAgent: sessions.userAgent,
      signInMethod: sessions.signInMethod,
    })
    .from(sessions)
    .where(and(eq(sessions.userId, owner.userId), live(deps.config)))
    .orderBy(desc(sessions.lastSeenAt), desc(sessions.createdAt));
  return rows.map((r) => ({ ...r, current: r.id === owner.sessionId }));
}

/**
 * "Sign out everywhere else": ends every other session of the user, keeps the one in use,
 * and records it in the user's organization with how many ended.
 */
export async function endOtherSessions(
  deps: Pick<Deps, 'db'>,
  owner: SessionOwner,
  requestId?: string,
): Promise<{ ended: number }> {
  return deps.db.transaction(async (tx) => {
    const ended = await endSessionsQuery(tx, owner.userId, { except: owner.sessionId }).returning({ id: sessions.id });
    await recordOwnAudit(tx, owner.userId, {
      action: 'session.end_others',
      outcome: 'succeeded',
      requestId,
      detail: { ended: ended.length },
    });
    return { ended: ended.length };
  });
}

/**
 * Ends one live session of the user, audited. Only their own: the delete names the user,
 * so another user's session id (or a made-up one) ends nothing and answers like a session
 * already ended — it does not tell whether that id exists.
 */
export async function endOwnSession(
  deps: Pick<Deps, 'db' | 'config'>,
  owner: SessionOwner,
  sessionId: string,
  requestId?: string,
): Promise<{ ended: boolean }> {
  if (!/^[0-9a-f]{64}$/.test(sessionId)) return { ended: false };
  return deps.db.transaction(async (tx) => {
    const [ended] = await tx
      .delete(sessions)
      .where(and(eq(sessions.id, sessionId), eq(sessions.userId, owner.userId), live(deps.config)))
      .returning({ createdAt: sessions.createdAt, userAgent: sessions.userAgent });
    if (!ended) return { ended: false };
    await recordOwnAudit(tx, owner.userId, {
      action: 'session.end',
      outcome: 'succeeded',
      requestId,
      // What tells the session apart for someone reading the trail; never its id (a hash of the cookie).
      detail: { startedAt: ended.createdAt.toISOString(), userAgent: ended.userAgent },
    });
    return { ended: true };
  });
}

/** Deletes sessions past either limit (the reconciler's housekeeping): they open nothing already. */
export async function purgeEndedSessions(deps: Pick<Deps, 'db' | 'config'>): Promise<void> {
  await deps.db.delete(sessions).where(not(live(deps.config)));
}
