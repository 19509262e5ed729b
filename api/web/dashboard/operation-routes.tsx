import { operationCounts } from '../../../services/dashboard/dashboard.ts';
import { retryOperation } from '../../../services/operations/retry.ts';
import {
  describeOperations,
  getOperation,
  listOperations,
  type OperationDescribed,
} from '../../../services/operations/views.ts';
import type { WebApp } from '../../env.ts';
import { csrfToken, formFields, renderPage, verifyCsrf } from '../shared/context.ts';
import { safeNext } from '../shared/sign-in.ts';
import { OperationPage, OperationsPage } from './pages/operations.tsx';
import { notice, OperationFilters, PAGE, query, withNotice } from './query.ts';

/** Operations inside clients: the list by state, one operation, and retrying a failed one. */
export function registerOperationPages(app: WebApp): void {
  app.get('/dashboard/operations', async (c) => {
    const { db } = c.var.deps;
    const p = c.var.principal;
    const filters = query(c, OperationFilters);
    // Staff without client access get the API's 403: operations happen inside clients.
    const page = await listOperations(db, p, { state: filters.state, cursor: filters.cursor, limit: PAGE });
    return renderPage(
      c,
      <OperationsPage
        principal={p}
        csrf={csrfToken(c)}
        state={filters.state}
        counts={await operationCounts(db, p)}
        operations={await describeOperations(db, p, page.items)}
        nextCursor={page.nextCursor}
        notice={notice(c)}
      />,
    );
  });

  app.get('/dashboard/operations/:id', async (c) => {
    const { db } = c.var.deps;
    const p = c.var.principal;
    const [operation] = await describeOperations(db, p, [await getOperation(db, p, c.req.param('id'))]);
    return renderPage(
      c,
      <OperationPage
        principal={p}
        csrf={csrfToken(c)}
        operation={operation as OperationDescribed}
        notice={notice(c)}
      />,
    );
  });

  app.post('/dashboard/operations/:id/retry', async (c) => {
    const form = await formFields(c);
    verifyCsrf(c, form.csrf);
    await retryOperation(c.var.deps, c.var.principal, c.req.param('id'), { requestId: c.var.requestId });
    const back = safeNext(form.next, '/dashboard/operations?state=failed');
    return c.redirect(withNotice(back, { notice: 'operation-retried' }), 303);
  });
}
