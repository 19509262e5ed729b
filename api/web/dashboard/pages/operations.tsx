import { operationKinds } from '../../../../core/operation-kinds.ts';
import type { OperationState } from '../../../../db/schema/index.ts';
import type { OperationDescribed } from '../../../../services/operations/views.ts';
import type { PartnerPrincipal } from '../../../../services/shared/principals.ts';
import { utcSecond } from '../../shared/format.ts';
import { CountsByState, DashboardLayout, operationStatesShown, StatePill } from './layout.tsx';

/** Where a client's page is: its organization once it has one, else its delegation. */
export function clientHref(op: OperationDescribed): string {
  return op.client.orgId ? `/dashboard/clients/${op.client.orgId}` : `/dashboard/delegations/${op.delegationId}`;
}

export function RetryOperationForm(props: { operationId: string; csrf: string; next: string }) {
  return (
    <form method="post" action={`/dashboard/operations/${props.operationId}/retry`} class="inline">
      <input type="hidden" name="csrf" value={props.csrf} />
      <input type="hidden" name="next" value={props.next} />
      <button type="submit" class="secondary">
        Retry
      </button>
    </form>
  );
}

/** Operations as rows: when, in which client, what happened in words, and a retry for a failed one. */
export function OperationsTable(props: {
  operations: OperationDescribed[];
  csrf: string;
  next: string;
  /** Leave out the client column (on a client's own page). */
  withoutClient?: boolean;
}) {
  return (
    <div class="scroll">
      <table>
        <thead>
          <tr>
            <th scope="col">Requested</th>
            {props.withoutClient ? null : <th scope="col">Client</th>}
            <th scope="col">What happened</th>
            <th scope="col">State</th>
            <th scope="col" class="num">
              Attempts
            </th>
            <th scope="col">
              <span class="muted">Action</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {props.operations.map((op) => (
            <tr data-operation={op.id}>
              <td class="date">
                <a href={`/dashboard/operations/${op.id}`} title="The operation's details">
                  {utcSecond(op.createdAt)}
                </a>
              </td>
              {props.withoutClient ? null : (
                <td>
                  <a href={clientHref(op)}>{op.client.name}</a>
                </td>
              )}
              <td>
                <span class="muted">{operationKinds[op.kind].label}: </span>
                <a href={`/dashboard/operations/${op.id}`}>{op.words}</a>
              </td>
              <td>
                <StatePill state={op.state} />
              </td>
              <td class="num">{op.attempts}</td>
              <td>
                {op.state === 'failed' ? (
                  <RetryOperationForm operationId={op.id} csrf={props.csrf} next={props.next} />
                ) : null}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** One operation: what was asked, by whom, for which client, and what came of it. */
export function OperationPage(props: {
  principal: PartnerPrincipal;
  csrf: string;
  operation: OperationDescribed;
  notice?: string | undefined;
}) {
  const op = props.operation;
  const here = `/dashboard/operations/${op.id}`;
  return (
    <DashboardLayout
      title={`${operationKinds[op.kind].label}: ${op.subject}`}
      principal={props.principal}
      csrf={props.csrf}
      section="/dashboard/operations"
      live={op.state === 'queued' || op.state === 'running'}
    >
      {props.notice ? <p class="ok">{props.notice}</p> : null}
      <section class="card" data-live="operation">
        <p class="words" data-testid="operation-words">
          {op.words}
        </p>
        <dl class="facts">
          <dt>State</dt>
          <dd>
            <StatePill state={op.state} />
          </dd>
          <dt>Client</dt>
          <dd>
            <a href={clientHref(op)}>{op.client.name}</a> ·{' '}
            <a href={`/dashboard/delegations/${op.delegationId}`}>its delegation</a>
          </dd>
          <dt>Asked by</dt>
          <dd>{op.requestedBy ?? '—'}</dd>
          <dt>Asked</dt>
          <dd>{utcSecond(op.createdAt)}</dd>
          <dt>Attempts</dt>
          <dd>{op.attempts}</dd>
          <dt>Last change</dt>
          <dd>{utcSecond(op.updatedAt)}</dd>
          <dt>Finished</dt>
          <dd>{utcSecond(op.finishedAt)}</dd>
          {op.error ? (
            <>
              <dt>{op.state === 'running' ? 'Last try' : 'Why it failed'}</dt>
              <dd>{op.error}</dd>
            </>
          ) : null}
        </dl>
        {op.state === 'failed' ? (
          <div class="actions">
            <RetryOperationForm operationId={op.id} csrf={props.csrf} next={here} />
          </div>
        ) : null}
      </section>
    </DashboardLayout>
  );
}

export function OperationsPage(props: {
  principal: PartnerPrincipal;
  csrf: string;
  state: OperationState | undefined;
  counts: Record<OperationState, number>;
  operations: OperationDescribed[];
  nextCursor: string | null;
  notice?: string | undefined;
}) {
  const here = `/dashboard/operations${props.state ? `?state=${props.state}` : ''}`;
  return (
    <DashboardLayout
      title="Operations"
      principal={props.principal}
      csrf={props.csrf}
      section="/dashboard/operations"
      live
    >
      {props.notice ? <p class="ok">{props.notice}</p> : null}
      <section class="card" data-live="counts">
        <CountsByState
          states={operationStatesShown}
          counts={props.counts}
          href={(s) => `/dashboard/operations?state=${s}`}
          label="Operations by state"
          current={props.state}
        />
      </section>
      <section class="card" data-live="list">
        <h2>{props.state ? `${props.state[0]?.toUpperCase()}${props.state.slice(1)} operations` : 'All operations'}</h2>
        {props.operations.length === 0 ? (
          <p class="muted">None.</p>
        ) : (
          <OperationsTable operations={props.operations} csrf={props.csrf} next={here} />
        )}
        {props.nextCursor ? (
          <p>
            <a
              href={`/dashboard/operations?${new URLSearchParams({ ...(props.state ? { state: props.state } : {}), cursor: props.nextCursor })}`}
            >
              Next page
            </a>
          </p>
        ) : null}
      </section>
    </DashboardLayout>
  );
}
