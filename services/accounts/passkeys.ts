import { and, asc, count, eq, sql } from 'drizzle-orm';
import { AppError } from '../../core/errors.ts';
import { isId, newId } from '../../core/ids.ts';
import {
  MAX_PASSKEYS_PER_USER,
  type PasskeyRefusal,
  passkeyRefusalMessages,
  readPasskeyName,
} from '../../core/passkeys.ts';
import type { DbOrTx } from '../../db/client.ts';
import { passkeys, sessions, users } from '../../db/schema/index.ts';
import type { Deps } from '../../lib/deps.ts';
import {
  type PasskeyCreationOptions,
  readAttestation,
  registrationOptions,
  relyingParty,
  verifyRegistration,
} from '../../lib/webauthn.ts';
import { notifyContext, notifySecondFactorChange } from '../mail/notifications.ts';
import { enqueueEmails } from '../mail/outbox.ts';
import { issuePasskeyChallenge, takePasskeyChallenge } from './passkey-challenges.ts';
import {
  dropRecoveryCodesWithoutFactor,
  hasSecondFactor,
  issueRecoveryCodes,
  recordOwnAudit,
} from './second-factor.ts';
import { endSessionsQuery } from './sessions.ts';
import type { FactorOwner } from './two-factor.ts';

/** One of a user's passkeys as their passkeys page shows it. */
export interface PasskeyView {
  id: string;
  name: string;
  createdAt: Date;
  lastUsedAt: Date | null;
}

/** The user's passkeys, the oldest first. */
export async function listPasskeys(db: DbOrTx, userId: string): Promise<PasskeyView[]> {
  return db
    .select({ id: passkeys.id, name: passkeys.name, createdAt: passkeys.createdAt, lastUsedAt: passkeys.lastUsedAt })
    .from(passkeys)
    .where(eq(passkeys.userId, userId))
    .orderBy(asc(passkeys.createdAt), asc(passkeys.id));
}

/** The credentials of a user's passkeys, to name in a browser's options (allowed, or excluded). */
export async function passkeyCredentials(
  db: DbOrTx,
  userId: string,
): Promise<{ credentialId: string; transports: string[] }[]> {
  return db
    .select({ credentialId: passkeys.credentialId, transports: passkeys.transports })
    .from(passkeys)
    .where(eq(passkeys.userId, userId));
}

async function passkeyCount(db: DbOrTx, userId: string): Promise<number> {
  const [row] = await db.select({ n: count() }).from(passkeys).where(eq(passkeys.userId, userId));
  return row?.n ?? 0;
}

/**
 * Starts adding a passkey for the signed-in user: the options for the browser's
 * `navigator.credentials.create` (via @simplewebauthn/browser), their challenge remembered
 * for this user. Refused (CONFLICT) when the user holds the most passkeys allowed.
 */
export async function startPasskeyRegistration(
  deps: Pick<Deps, 'db' | 'config'>,
  owner: Pick<FactorOwner, 'userId'>,
): Promise<PasskeyCreationOptions> {
  const [user] = await deps.db
    .select({ email: users.email, displayName: users.displayName })
    .from(users)
    .where(eq(users.id, owner.userId));
  if (!user) throw new AppError('NOT_FOUND', 'No such user.');
  const existing = await passkeyCredentials(deps.db, owner.userId);
  if (existing.length >= MAX_PASSKEYS_PER_USER) throw new AppError('CONFLICT', passkeyRefusalMessages.too_many);
  const options = await registrationOptions(
    relyingParty(deps.config),
    { id: owner.userId, email: user.email, displayName: user.displayName },
    existing,
  );
  await issuePasskeyChallenge(deps.db, options.challenge, 'register', owner.userId);
  return options;
}

interface RegistrationOk {
  ok: true;
  passkeyId: string;
  /** New recovery codes, to show once: this passkey is the user's first second factor. Else null. */
  recoveryCodes: string[] | null;
}

export type RegistrationResult = RegistrationOk | { ok: false; reason: PasskeyRefusal };

/**
 * Finishes adding a passkey: the browser's answer checked (its challenge ours, live,
 * unused and this user's; made on this site; the attestation sound), the passkey stored
 * under the name its owner gave, every other session of the user ended (their second
 * factors changed), an audit event. When it is the user's first second factor, ten
 * recovery codes come with it, for when the device is lost. A refusal changes nothing but
 * the trail (and spends the challenge it named).
 */
export async function finishPasskeyRegistration(
  deps: Pick<Deps, 'db' | 'config' | 'logger' | 'queues'>,
  owner: FactorOwner,
  input: { name: string | undefined; answer: string; requestId?: string | undefined },
): Promise<RegistrationResult> {
  const result = await registerLocked(deps, owner, input);
  if (!result.ok) return result;
  const { emailIds, ...registered } = result;
  await enqueueEmails(deps, emailIds);
  return registered;
}

function registerLocked(
  deps: Pick<Deps, 'db' | 'config' | 'logger'>,
  owner: FactorOwner,
  input: { name: string | undefined; answer: string; requestId?: string | undefined },
) {
  const rp = relyingParty(deps.config);
  return deps.db.transaction(
    async (tx): Promise<Extract<RegistrationResult, { ok: false }> | (RegistrationOk & { emailIds: string[] })> => {
      const refuse = async (reason: PasskeyRefusal) => {
        await recordOwnAudit(tx, owner.userId, {
          action: 'passkey.register',
          outcome: 'rejected',
          requestId: input.requestId,
          detail: { reason },
        });
        return { ok: false as const, reason };
      };
      const name = readPasskeyName(input.name);
      if (!name) return refuse('bad_name');
      const read = readAttestation(input.answer);
      if (read?.clientData.type !== 'webauthn.create') return refuse(input.answer ? 'malformed' : 'no_answer');
      if (read.clientData.origin !== rp.origin) return refuse('wrong_origin');
      if (!(await takePasskeyChallenge(tx, read.clientData.challenge, 'register', owner.userId))) {
        return refuse('challenge_unknown');
      }
      const verified = await verifyRegistration(rp, read.response, read.clientData.challenge);
      if (!verified.ok) {
        deps.logger.info({ requestId: input.requestId, error: verified.error }, 'passkey registration refused');
        // The RP id is inside the attestation: another site's shows only here.
        return refuse(/RP ID/i.test(verified.error) ? 'wrong_origin' : 'invalid_signature');
      }
      if ((await passkeyCount(tx, owner.userId)) >= MAX_PASSKEYS_PER_USER) return refuse('too_many');
      const firstFactor = !(await hasSecondFactor(tx, owner.userId));
      const { credential } = verified;
      const [added] = await tx
        .insert(passkeys)
        .values({
          id: newId('passkey'),
          userId: owner.userId,
          credentialId: credential.credentialId,
          publicKey: credential.publicKey,
          signCount: credential.signCount,
          transports: credential.transports,
          name,
        })
        .onConflictDoNothing({ target: passkeys.credentialId })
        .returning({ id: passkeys.id });
      if (!added) return refuse('already_registered');
      const recoveryCodes = firstFactor ? await issueRecoveryCodes(tx, owner.userId) : null;
      await endSessionsQuery(tx, owner.userId, { except: owner.sessionId });
      // The ceremony verified the person on the new passkey: a second factor passed, as at enrolment.
      await tx.update(sessions).set({ secondFactorAt: sql`now()` }).where(eq(sessions.id, owner.sessionId));
      await recordOwnAudit(tx, owner.userId, {
        action: 'passkey.register',
        outcome: 'succeeded',
        requestId: input.requestId,
        detail: { passkeyId: added.id, name, ...(recoveryCodes ? { recoveryCodes: recoveryCodes.length } : {}) },
      });
      const emailIds = await notifySecondFactorChange(tx, notifyContext(deps.config), {
        userId: owner.userId,
        change: 'passkey_added',
        passkeyName: name,
        eventKey: `${added.id}.added`,
      });
      return { ok: true as const, passkeyId: added.id, recoveryCodes, emailIds };
    },
  );
}

/**
 * Removes one of the user's own passkeys: every other session of the user ends, and with
 * their last second factor the recovery codes go. Another user's passkey id (or a made-up
 * one) removes nothing and answers like one already removed.
 */
export async function removePasskey(
  deps: Pick<Deps, 'db' | 'config' | 'queues' | 'logger'>,
  owner: FactorOwner,
  passkeyId: string,
  requestId?: string,
): Promise<{ removed: boolean }> {
  if (!isId('passkey', passkeyId)) return { removed: false };
  const result = await deps.db.transaction(async (tx) => {
    const [removed] = await tx
      .delete(passkeys)
      .where(and(eq(passkeys.id, passkeyId), eq(passkeys.userId, owner.userId)))
      .returning({ id: passkeys.id, name: passkeys.name });
    if (!removed) return { removed: false };
    await dropRecoveryCodesWithoutFactor(tx, owner.userId);
    await endSessionsQuery(tx, owner.userId, { except: owner.sessionId });
    await recordOwnAudit(tx, owner.userId, {
      action: 'passkey.remove',
      outcome: 'succeeded',
      requestId,
      detail: { passkeyId: removed.id, name: removed.name },
    });
    const emailIds = await notifySecondFactorChange(tx, notifyContext(deps.config), {
      userId: owner.userId,
      change: 'passkey_removed',
      passkeyName: removed.name,
      eventKey: `${removed.id}.removed`,
    });
    return { removed: true, emailIds };
  });
  if (!result.removed) return { removed: false };
  await enqueueEmails(deps, result.emailIds ?? []);
  return { removed: true };
}
