import { uuidv7 } from 'uuidv7';
import { AppError } from './errors.ts';

/**
 * Prefixes of every id Mandate hands out. The prefix says what an id points at
 * (useful in logs and support tickets); the rest is a UUIDv7 without dashes, so ids
 * sort by creation time as plain strings and can serve as pagination cursors.
 */
export const idPrefixes = {
  organization: 'org',
  user: 'usr',
  apiToken: 'tok',
  offer: 'ofr',
  campaign: 'cmp',
  campaignUpload: 'upl',
  delegation: 'dlg',
  email: 'eml',
  operation: 'op',
  domain: 'dom',
  amendment: 'amd',
  userFactor: 'fac',
  staffInvitation: 'inv',
  passkey: 'pky',
  ssoProvider: 'sso',
  webhookEndpoint: 'whe',
  webhookDelivery: 'whd',
  webhookEvent: 'evt',
} as const;

export type IdKind = keyof typeof idPrefixes;

export function newId(kind: IdKind): string {
  return `${idPrefixes[kind]}_${uuidv7().replaceAll('-', '')}`;
}

const idPattern = /^[a-z]{2,3}_[0-9a-f]{32}$/;

/** True when `value` has the shape of an id of `kind` (it may still not exist). */
export function isId(kind: IdKind, value: string): boolean {
  return value.startsWith(`${idPrefixes[kind]}_`) && idPattern.test(value);
}

/**
 * Ids come from URLs and bodies: one that cannot be an id of `kind` names nothing, so
 * it is NOT_FOUND without asking the database (which would choke on a NUL byte).
 */
export function requireId(kind: IdKind, value: string, what: string): string {
  if (!isId(kind, value)) throw new AppError('NOT_FOUND', `No such ${what}`);
  return value;
}
