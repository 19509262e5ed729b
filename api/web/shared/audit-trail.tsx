import { auditActionLabels, auditActions, auditOutcomeLabels, auditOutcomes } from '../../../core/audit-actions.ts';
import type { AuditFilterInput } from '../../../core/audit-filters.ts';
import type { AuditEntry } from '../../../services/audit/trail.ts';
import { utcSecond } from './format.ts';

/** The filters as a page received them; the partner's trail may also be narrowed to one client. */
export type TrailValues = AuditFilterInput & { clientOrgId?: string | undefined };

/** The filters as the page received them, back into a query string (for the next page and the CSV link). */
export function auditQueryString(input: TrailValues, cursor?: string | null): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(input)) if (value) params.set(key, value);
  if (cursor) params.set('cursor', cursor);
  const text = params.toString();
  return text ? `?${text}` : '';
}

/** The filters a trail's reader reads it by: who, what, how it came out, when. A plain GET form. */
export function AuditFilterForm(props: { action: string; values: TrailValues }) {
  const v = props.values;
  return (
    <form method="get" action={props.action} class="filters" aria-label="Filter the trail">
      {v.clientOrgId ? <input type="hidden" name="clientOrgId" value={v.clientOrgId} /> : null}
      <label>
        Who
        <input type="text" name="actor" value={v.actor ?? ''} placeholder="an address, or system" />
      </label>
      <label>
        What
        <select name="action">
          <option value="">Anything</option>
          {auditActions.map((a) => (
            <option value={a} selected={v.action === a}>
              {auditActionLabels[a]}
            </option>
          ))}
        </select>
      </label>
      <label>
        Outcome
        <select name="outcome">
          <option value="">Any</option>
          {auditOutcomes.map((o) => (
            <option value={o} selected={v.outcome === o}>
              {auditOutcomeLabels[o]}
            </option>
          ))}
        </select>
      </label>
      <label>
        From (UTC)
        <input type="date" name="from" value={v.from ?? ''} />
      </label>
      <label>
        To (UTC)
        <input type="date" name="to" value={v.to ?? ''} />
      </label>
      <button type="submit">Show</button>
    </form>
  );
}

/** A page of a trail: one row per action, in words. */
export function AuditTable(props: { entries: AuditEntry[]; show: 'partner' | 'organization' }) {
  return (
    <table data-audit="trail">
      <thead>
        <tr>
          <th scope="col">When (UTC)</th>
          <th scope="col">Who</th>
          <th scope="col">{props.show === 'partner' ? 'For partner' : 'Organization'}</th>
          <th scope="col">What</th>
          <th scope="col">About</th>
          <th scope="col">Outcome</th>
        </tr>
      </thead>
      <tbody>
        {props.entries.map((e) => (
          <tr data-audit-row={e.id}>
            <td class="date">{utcSecond(e.at)}</td>
            <td>{e.actor}</td>
            <td>{props.show === 'partner' ? (e.partnerName ?? '—') : e.orgName}</td>
            <td>{e.label}</td>
            <td>{e.about ?? ''}</td>
            <td>
              <span class={`state state-${e.outcome}`}>{e.outcomeLabel}</span>
              {e.reason ? (
                <>
                  {' '}
                  <small>{e.reason}</small>
                </>
              ) : null}
              {e.outcome !== 'succeeded' && e.changes.length > 0 ? (
                <>
                  {' '}
                  <small data-changes>{`Changed before it stopped: ${e.changes.join('; ')}`}</small>
                </>
              ) : null}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** Links between pages of a trail: back to the newest, on to older ones, and the whole of it as CSV. */
export function AuditPager(props: {
  path: string;
  csvPath: string;
  values: TrailValues;
  cursor: string | undefined;
  nextCursor: string | null;
}) {
  return (
    <p class="actions">
      {props.cursor ? <a href={`${props.path}${auditQueryString(props.values)}`}>Newest</a> : null}
      {props.nextCursor ? (
        <a href={`${props.path}${auditQueryString(props.values, props.nextCursor)}`} rel="next">
          Older
        </a>
      ) : null}
      <a href={`${props.csvPath}${auditQueryString(props.values)}`} download>
        Download all of it as CSV
      </a>
    </p>
  );
}

/** A trail's page body: its filters, a page of it (or a word that nothing matches), and the links on. */
export function AuditTrail(props: {
  path: string;
  csvPath: string;
  show: 'partner' | 'organization';
  entries: AuditEntry[];
  values: TrailValues;
  cursor: string | undefined;
  nextCursor: string | null;
}) {
  return (
    <>
      <AuditFilterForm action={props.path} values={props.values} />
      {props.entries.length === 0 ? (
        <p>Nothing {props.cursor ? 'older' : 'here'} matches.</p>
      ) : (
        <AuditTable entries={props.entries} show={props.show} />
      )}
      <AuditPager
        path={props.path}
        csvPath={props.csvPath}
        values={props.values}
        cursor={props.cursor}
        nextCursor={props.nextCursor}
      />
    </>
  );
}
