import { type SQL, sql } from 'drizzle-orm';
import type { SelectedFields } from 'drizzle-orm/pg-core';
import type { DbOrTx } from '../../db/client.ts';
import { passkeys, userFactors, users } from '../../db/schema/index.ts';

/**
 * The user with this email, ignoring case, with the `columns` asked for; undefined when
 * there is none. Case is ignored because the unique index (`users_email_unique`, on
 * `lower(email)`) ignores it: one address, one account, however it is typed — and this
 * comparison is the one that index serves.
 */
export async function findUserByEmail<T extends SelectedFields>(db: DbOrTx, email: string, columns: T) {
  const [user] = await db.select(columns).from(users).where(userEmailIs(email));
  return user;
}

/**
 * The condition of {@link findUserByEmail}, for statements that look an address up as part
 * of something else (an insert only if it is free, one audit row if it has an account).
 */
export function userEmailIs(email: string): SQL {
  return sql`lower(${users.email}) = lower(${email})`;
}

/**
 * Whether the user of the statement (the `users` row) holds a second factor — a confirmed
 * authenticator app or a passkey: for statements that read it with something else (the
 * password check, the viewer, an API token, a member list). Written out qualified:
 * drizzle leaves columns unqualified in a select from one table, where `id` inside these
 * subqueries would name the factor's own.
 */
export const userHasSecondFactor: SQL<boolean> = sql<boolean>`(exists (select 1 from ${userFactors} f
    where f.user_id = "users"."id" and f.confirmed_at is not null)
  or exists (select 1 from ${passkeys} p where p.user_id = "users"."id"))`;
