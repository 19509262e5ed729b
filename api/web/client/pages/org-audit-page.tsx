import type { AuditFilterInput } from '../../../../core/audit-filters.ts';
import type { AuditEntry } from '../../../../services/audit/trail.ts';
import { AuditTrail } from '../../shared/audit-trail.tsx';
import { Layout } from '../../shared/layout.tsx';

export interface OrgAuditPageProps {
  orgName: string;
  entries: AuditEntry[];
  values: AuditFilterInput;
  cursor: string | undefined;
  nextCursor: string | null;
}

/** Everything that happened in the organization — partners' actions and its own admins' — paged and filtered. */
export function OrgAuditPage(props: OrgAuditPageProps) {
  return (
    <Layout title={`What happened in ${props.orgName}`} wide>
      <h1>What happened in {props.orgName}</h1>
      <p class="muted">
        <a href="/org/delegations">Delegated administration</a> · Newest first; times in UTC.
      </p>
      <AuditTrail
        path="/org/audit"
        csvPath="/org/audit.csv"
        show="partner"
        entries={props.entries}
        values={props.values}
        cursor={props.cursor}
        nextCursor={props.nextCursor}
      />
    </Layout>
  );
}
