import { VERIFICATION_PREFIX } from './domain-names.ts';
import type { OperationKind } from './operation-kinds.ts';

/** What a page knows of an operation when it says what happened, in words. */
export interface OperationFacts {
  state: 'queued' | 'running' | 'succeeded' | 'failed' | 'rejected';
  /** What was asked (never a secret: tokens published in DNS are not). */
  input: Record<string, unknown>;
  result: Record<string, unknown> | null;
  error: string | null;
  /** The address of the user the operation is about, when the input names the user by id. */
  userEmail: string | null;
}

const text = (value: unknown): string | null => (typeof value === 'string' && value !== '' ? value : null);

/** "— temporary password sent to …" when the result says where it went. */
const sentTo = (f: OperationFacts) => {
  const to = text(f.result?.temporaryPasswordSentTo);
  return to ? ` — temporary password sent to ${to}` : '';
};

/** How each kind reads at each stage: `did` once succeeded, `doing` before, `subject` in a failure. */
const words: Record<
  OperationKind,
  { subject: (f: OperationFacts) => string; did: (f: OperationFacts) => string; doing: string; failed: string }
> = {
  provision_user: {
    subject: (f) => text(f.result?.email) ?? text(f.input.email) ?? 'a user',
    did: (f) => `Created ${words.provision_user.subject(f)}${sentTo(f)}`,
    doing: 'Creating',
    failed: 'Could not create',
  },
  reset_password: {
    subject: (f) => f.userEmail ?? 'a user',
    did: (f) => `Reset the password of ${words.reset_password.subject(f)}${sentTo(f)}`,
    doing: 'Resetting the password of',
    failed: 'Could not reset the password of',
  },
  add_domain: {
    subject: (f) => text(f.result?.name) ?? text(f.input.name) ?? 'a domain',
    did: (f) => {
      const name = words.add_domain.subject(f);
      if (f.result?.state === 'verified') {
        const root = text(f.result.coveredBy);
        return `Added ${name}, verified${root ? ` (covered by ${root})` : ''}`;
      }
      const token = text(f.input.token);
      return `Added ${name}, not verified yet${token ? `: publish a TXT record at ${name} with the value ${VERIFICATION_PREFIX}${token}, then verify it` : ''}`;
    },
    doing: 'Adding',
    failed: 'Could not add',
  },
  verify_domain: {
    subject: (f) => text(f.result?.name) ?? text(f.input.name) ?? 'a domain',
    did: (f) => {
      const root = text(f.result?.coveredBy);
      return `Verified ${words.verify_domain.subject(f)}${root ? ` (covered by ${root})` : ''}`;
    },
    doing: 'Checking',
    failed: 'Could not verify',
  },
};

/** What the operation is about: an address or a domain name. */
export function operationSubject(kind: OperationKind, f: OperationFacts): string {
  return words[kind].subject(f);
}

/**
 * The operation in one sentence: "Created jordan@… — temporary password sent to …",
 * "Could not verify example.com: …", "Checking example.com (waiting for its turn)".
 */
export function operationInWords(kind: OperationKind, f: OperationFacts): string {
  const w = words[kind];
  switch (f.state) {
    case 'succeeded':
      return w.did(f);
    case 'failed':
    case 'rejected':
      return `${w.failed} ${w.subject(f)}${f.error ? `: ${f.error}` : ''}`;
    case 'queued':
      return `${w.doing} ${w.subject(f)} (waiting for its turn)`;
    case 'running':
      return `${w.doing} ${w.subject(f)}${f.error ? ` (last try: ${f.error})` : ''}`;
  }
}
