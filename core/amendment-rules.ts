import type { AmendmentKind } from './amendment-machine.ts';
import type { FieldIssue } from './errors.ts';
import { MAX_DURATION_DAYS } from './offer-rules.ts';
import { type Role, sortRoles } from './roles.ts';

const DAY_MS = 86_400_000;

/** The terms of an active delegation an amendment can change. */
export interface DelegationTerms {
  roles: Role[];
  endsAt: Date;
  autoExtend: boolean;
}

/** One amendment's change: roles given up or asked for, days asked for, auto-extend turned off or on. */
export interface AmendmentChange {
  addRoles: Role[];
  removeRoles: Role[];
  /** Days added to the end; null: the end stays. */
  extendDays: number | null;
  /** Auto-extend's new value; null: unchanged. */
  autoExtend: boolean | null;
}

/** What a partner asks for, as the API receives it. */
export interface AmendmentRequest {
  addRoles?: readonly Role[] | undefined;
  removeRoles?: readonly Role[] | undefined;
  extendDays?: number | undefined;
  autoExtend?: boolean | undefined;
}

/** A request split by the consent rule, each part with the terms it leads to. */
export interface AmendmentPlan {
  /** What the partner gives up, applied at once; null when it gives up nothing. */
  reduction: { change: AmendmentChange; after: DelegationTerms } | null;
  /** What the partner asks for, applied only on the client's yes; null when it asks nothing. */
  addition: { change: AmendmentChange; after: DelegationTerms } | null;
}

const noChange: AmendmentChange = { addRoles: [], removeRoles: [], extendDays: null, autoExtend: null };

/** The terms once `change` applies to `terms`. Pure. */
export function applyChange(terms: DelegationTerms, change: AmendmentChange): DelegationTerms {
  const removed = new Set<Role>(change.removeRoles);
  return {
    roles: sortRoles([...terms.roles.filter((role) => !removed.has(role)), ...change.addRoles]),
    endsAt: change.extendDays ? new Date(terms.endsAt.getTime() + change.extendDays * DAY_MS) : terms.endsAt,
    autoExtend: change.autoExtend ?? terms.autoExtend,
  };
}

/** Whether a change gives the partner anything (roles, days, auto-extend) or only takes away. */
export function kindOfChange(change: AmendmentChange): AmendmentKind {
  return change.addRoles.length > 0 || change.extendDays !== null || change.autoExtend === true
    ? 'addition'
    : 'reduction';
}

/**
 * Rules any terms must follow, whoever proposes them: auto-extend never with global admin
 * (as for offers: standing global-admin rights are what least privilege ends), and no end
 * more than MAX_DURATION_DAYS from `now`.
 */
export function termsIssues(after: DelegationTerms, now: Date, paths: { autoExtend: string }): FieldIssue[] {
  const issues: FieldIssue[] = [];
  if (after.autoExtend && after.roles.includes('global_admin')) {
    issues.push({ path: paths.autoExtend, message: 'auto-extend is never allowed with global_admin (full access)' });
  }
  if (after.endsAt.getTime() > now.getTime() + MAX_DURATION_DAYS * DAY_MS) {
    issues.push({
      path: 'extendDays',
      message: `the new end (${after.endsAt.toISOString().slice(0, 10)}) would be more than ${MAX_DURATION_DAYS} days from now`,
    });
  }
  return issues;
}

function listIssues(field: 'addRoles' | 'removeRoles', list: readonly Role[], check: (role: Role) => string | null) {
  const issues: FieldIssue[] = [];
  list.forEach((role, i) => {
    const message = list.indexOf(role) !== i ? `${role} is named twice` : check(role);
    if (message) issues.push({ path: `${field}/${i}`, message });
  });
  return issues;
}

/**
 * Splits a request into what applies at once and what waits for the client (the consent
 * rule: the partner may reduce what it holds at any time, and gains nothing — no role, no
 * day, no auto-extension — without the client's yes), or says what is wrong with it.
 * Pure: `current` and `now` come from the caller.
 */
export function planAmendment(
  current: DelegationTerms,
  request: AmendmentRequest,
  now: Date,
): AmendmentPlan | FieldIssue[] {
  const add = request.addRoles ?? [];
  const remove = request.removeRoles ?? [];
  const autoExtend = request.autoExtend;
  if (add.length === 0 && remove.length === 0 && request.extendDays === undefined && autoExtend === undefined) {
    return [{ path: '(body)', message: 'change something: send addRoles, removeRoles, extendDays or autoExtend' }];
  }
  const held = new Set<Role>(current.roles);
  const issues = [
    ...listIssues('addRoles', add, (role) =>
      remove.includes(role)
        ? `${role} is both added and removed`
        : held.has(role)
          ? `${role} is already granted`
          : null,
    ),
    ...listIssues('removeRoles', remove, (role) => (held.has(role) ? null : `${role} is not granted`)),
  ];
  if (remove.length > 0 && current.roles.every((role) => remove.includes(role))) {
    issues.push({
      path: 'removeRoles',
      message: 'this would remove every role: end the delegation instead (DELETE /v1/delegations/{id})',
    });
  }
  if (autoExtend !== undefined && autoExtend === current.autoExtend) {
    issues.push({ path: 'autoExtend', message: `auto-extend is already ${autoExtend ? 'on' : 'off'}` });
  }
  if (issues.length > 0) return issues;

  const reduction: AmendmentChange = { ...noChange, removeRoles: sortRoles(remove) };
  if (autoExtend === false) reduction.autoExtend = false;
  const addition: AmendmentChange = { ...noChange, addRoles: sortRoles(add), extendDays: request.extendDays ?? null };
  if (autoExtend === true) addition.autoExtend = true;

  const reduces = reduction.removeRoles.length > 0 || reduction.autoExtend !== null;
  const adds = kindOfChange(addition) === 'addition';
  const reduced = reduces ? applyChange(current, reduction) : current;
  const added = adds ? applyChange(reduced, addition) : reduced;
  const termIssues = termsIssues(added, now, { autoExtend: autoExtend === true ? 'autoExtend' : 'addRoles' });
  if (termIssues.length > 0) return termIssues;
  return {
    reduction: reduces ? { change: reduction, after: reduced } : null,
    addition: adds ? { change: addition, after: added } : null,
  };
}
