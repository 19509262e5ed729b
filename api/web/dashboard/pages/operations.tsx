import { operationKinds } from '../../../../core/operation-kinds.ts';
import type { OperationState } from '../../../../db/schema/index.ts';
import type { OperationView } from '../../../../services/operations/views.ts';
import type { PartnerPrincipal } from '../../../../services/shared/principals.ts';
import { utcSecond } from '../../shared/format.ts';
import { CountsByState, DashboardLayout, operationStatesShown, StatePill } from './layout.tsx';

/** What the operation was about, from its input (never a secret) and result. */
function subject(op: OperationView): string {
  const r = op.result ?? {};
  const pick = (k: string) => (typeof r[k] === 'string' ? (r[k] as string) : undefined);
  return pick('email') ?? pick('name') ?? pick('userId') ?? '';
}

export function OperationsTable(props: { operations: OperationView[]; csrf: string; next: string }) {
  return (
    <table>
      <thead>
        <tr>
          <th scope="col">Requested</th>
          <th scope="col">Operation</th>
          <th scope="col">State</th>
          <th scope="col" class="num">
            Attempts
          </th>
          <th scope="col">Error or result</th>
          <th scope="col">
            <span class="muted">Action</span>
          </th>
        </tr>
      </thead>
      <tbody>
        {props.operations.map((op) => (
          <tr data-operation={op.id}>
            <td class="date">{utcSecond(op.createdAt)}</td>
            <td>
              {operationKinds[op.kind].label}
              <div class="muted">
                <a href={`/dashboard/delegations/${op.delegationId}`}>{subject(op) || op.id}</a>
              </div>
            </td>
            <td>
              <StatePill state={op.state} />
            </td>
            <td class="num">{op.attempts}</td>
            <td class="reply">{op.error ?? (op.result ? JSON.stringify(op.result) : '')}</td>
            <td>
              {op.state === 'failed' ? (
                <form method="post" action={`/dashboard/operations/${op.id}/retry`} class="inline">
                  <input type="hidden" name="csrf" value={props.csrf} />
                  <input type="hidden" name="next" value={props.next} />
                  <button type="submit" class="secondary">
                    Retry
                  </button>
                </form>
              ) : null}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function OperationsPage(props: {
  principal: PartnerPrincipal;
  csrf: string;
  state: OperationState | undefined;
  counts: Record<OperationState, number>;
  operations: OperationView[];
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
