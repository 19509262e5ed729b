import { describeRoles } from './access.ts';
import type { AmendmentChange, DelegationTerms } from './amendment-rules.ts';
import { AUTO_EXTEND_DAYS } from './offer-rules.ts';
import { describeRole, roleCatalogue } from './roles.ts';

const day = (d: Date) => d.toISOString().slice(0, 10);

/** One line of a before → after comparison, in the words a client's admin reads. */
export interface TermsLine {
  label: string;
  before: string;
  after: string;
  changed: boolean;
}

function renewal(autoExtend: boolean): string {
  return autoExtend
    ? `Renews automatically by ${AUTO_EXTEND_DAYS} days at the end, unless either side ends it`
    : 'Does not renew: it ends on that date';
}

/** The terms before and after an amendment, line by line (access, end, renewal). Pure. */
export function compareTerms(before: DelegationTerms, after: DelegationTerms): TermsLine[] {
  const line = (label: string, b: string, a: string) => ({ label, before: b, after: a, changed: a !== b });
  return [
    line('Access', describeRoles(before.roles), describeRoles(after.roles)),
    line('Ends on', day(before.endsAt), day(after.endsAt)),
    line('Renewal', renewal(before.autoExtend), renewal(after.autoExtend)),
  ];
}

/** What a change does, one sentence per part, each role in the catalogue's plain words. Pure. */
export function describeChange(change: AmendmentChange): string[] {
  return [
    ...change.addRoles.map((role) => `Adds ${describeRole(role)}`),
    ...change.removeRoles.map((role) => `Removes ${roleCatalogue[role].label}`),
    ...(change.extendDays ? [`Moves the end ${change.extendDays} days later`] : []),
    ...(change.autoExtend === true ? [`Turns automatic renewal on (by ${AUTO_EXTEND_DAYS} days at each end)`] : []),
    ...(change.autoExtend === false ? ['Turns automatic renewal off'] : []),
  ];
}

/** "before → after" of each changed line, for emails and audit text. */
export function changedLines(before: DelegationTerms, after: DelegationTerms): string[] {
  return compareTerms(before, after)
    .filter((l) => l.changed)
    .map((l) => `${l.label}: ${l.before} → ${l.after}`);
}
