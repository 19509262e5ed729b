import type { AuditEntry } from '../../../../services/audit/trail.ts';
import type { PartnerPrincipal } from '../../../../services/shared/principals.ts';
import { AuditTrail, type TrailValues } from '../../shared/audit-trail.tsx';
import { DashboardLayout } from './layout.tsx';

/** What the partner's people and jobs did, anywhere: paged, filtered, downloadable. Owners only. */
export function AuditPage(props: {
  principal: PartnerPrincipal;
  csrf: string;
  entries: AuditEntry[];
  values: TrailValues;
  /** The client organization the trail is narrowed to, by name. */
  clientName?: string | undefined;
  cursor: string | undefined;
  nextCursor: string | null;
}) {
  return (
    <DashboardLayout title="Audit trail" principal={props.principal} csrf={props.csrf} section="/dashboard/audit">
      <section class="card">
        <p class="muted">
          {props.clientName ? (
            <>
              {`Only what happened in ${props.clientName}. `}
              <a href="/dashboard/audit">Everywhere</a>
            </>
          ) : (
            'Everything your staff and Mandate did for you, in your account and in your clients’ organizations.'
          )}{' '}
          Newest first; times in UTC.
        </p>
        <AuditTrail
          path="/dashboard/audit"
          csvPath="/dashboard/audit.csv"
          show="organization"
          entries={props.entries}
          values={props.values}
          cursor={props.cursor}
          nextCursor={props.nextCursor}
        />
      </section>
    </DashboardLayout>
  );
}
