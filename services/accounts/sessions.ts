import { and, eq, gt, ne, sql } from 'drizzle-orm';
import type { Db, DbOrTx } from '../../db/client.ts';
import { organizations, sessions, users } from '../../db/schema/index.ts';
import { randomToken, sha256Hex } from '../../lib/secrets.ts';

/** How long a browser session lasts. */
export const SESSION_TTL_HOURS = 12;

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
}

/** Starts a session; returns the cookie value (only its hash is stored). */
export async function createSession(db: DbOrTx, userId: string): Promise<string> {
  const token = randomToken(32);
  await db.insert(sessions).values({
    id: sha256Hex(token),
    userId,
    expiresAt: sql`now() + make_interval(hours => ${SESSION_TTL_HOURS})`,
  });
  return token;
}

export async function findViewer(db: Db, token: string | undefined): Promise<Viewer | null> {
  if (!token || !/^[A-Za-z0-9_-]{43}$/.test(token)) return null;
  const [row] = await db
    .select({
      userId: users.id,
      email: users.email,
      displayName: users.displayName,
      orgId: organizations.id,
      orgKind: organizations.kind,
      orgName: organizations.name,
      isGlobalAdmin: users.isGlobalAdmin,
      mustChangePassword: users.mustChangePassword,
    })
    .from(sessions)
    .innerJoin(users, eq(users.id, sessions.userId))
    .innerJoin(organizations, eq(organizations.id, users.orgId))
    .where(and(eq(sessions.id, sha256Hex(token)), gt(sessions.expiresAt, sql`now()`)));
  return row ?? null;
}

export async function endSession(db: Db, token: string | undefined): Promise<void> {
  if (token) await db.delete(sessions).where(eq(sessions.id, sha256Hex(token)));
}

/**
 * Ends every session of a user (after a password reset, say) — but the one `except`
 * names, when given: the session of the user who changed their own password.
 */
export async function endAllSessions(db: DbOrTx, userId: string, options: { except?: string } = {}): Promise<void> {
  await endSessionsQuery(db, userId, options);
}

/** {@link endAllSessions} as a query not yet sent, for callers that send it with others. */
export function endSessionsQuery(db: DbOrTx, userId: string, options: { except?: string } = {}) {
  const others = options.except === undefined ? undefined : ne(sessions.id, options.except);
  return db.delete(sessions).where(and(eq(sessions.userId, userId), others));
}
