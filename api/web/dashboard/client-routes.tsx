import type { Context } from 'hono';
import { z } from 'zod';
import { AppError } from '../../../core/errors.ts';
import { canManageDelegations, seesClientOrganizations } from '../../../core/partner-permissions.ts';
import { effectiveCapabilities } from '../../../core/permissions.ts';
import { roles } from '../../../core/roles.ts';
import { partnerAuditScope, queryAudit } from '../../../services/audit/trail.ts';
import { clientOrganization, searchPartnerData } from '../../../services/dashboard/clients.ts';
import { proposeAmendment } from '../../../services/delegations/amendments.ts';
import { type DelegationView, getDelegation } from '../../../services/delegations/delegations.ts';
import { terminateByPartner } from '../../../services/delegations/termination.ts';
import {
  requestAddDomain,
  requestPasswordReset,
  requestProvisionUser,
  requestVerifyDomain,
} from '../../../services/operations/requests.ts';
import {
  describeOperations,
  listClientDomains,
  listClientUsers,
  listOperations,
} from '../../../services/operations/views.ts';
import type { AppEnv, WebApp } from '../../env.ts';
import { fieldIssues } from '../../problem.ts';
import { AmendmentRequestSchema } from '../../routes/delegations/amendment-schemas.ts';
import { ProvisionUserBody } from '../../routes/operations/schemas.ts';
import { csrfToken, formFields, renderPage, verifyCsrf } from '../shared/context.ts';
import { safeNext } from '../shared/sign-in.ts';
import { ClientPage, EndDelegationPage, SearchPage } from './pages/client.tsx';
import type { ClientWorkProps } from './pages/client-work.tsx';
import { notice, PAGE, withNotice } from './query.ts';
import { newSubmission, SUBMISSION_FIELD, submitOnce } from './submit-once.ts';

/** What the viewer may do in the organization behind `delegation`, with the users and domains they may list. */
export async function clientWork(
  c: Context<AppEnv>,
  delegation: DelegationView,
): Promise<Omit<ClientWorkProps, 'csrf' | 'next'> | null> {
  const p = c.var.principal;
  if (!seesClientOrganizations(p)) return null;
  const { db, config } = c.var.deps;
  const pastEnd = delegation.endsAt !== null && Date.parse(delegation.endsAt) <= Date.now();
  const may = effectiveCapabilities({
    delegation: { state: delegation.state, roles: delegation.roles, pastEnd },
    staffRoles: p.roles,
  });
  const [users, domains] = await Promise.all([
    may.has('list_users') ? listClientUsers(db, p, delegation.id).then((r) => r.items) : null,
    may.has('list_domains')
      ? listClientDomains(db, p, delegation.id, config.initialDomainSuffix).then((r) => r.items)
      : null,
  ]);
  return { delegation, may, users, domains, submission: newSubmission };
}

/** After a form: back where it came from, with what happened. */
function back(c: Context<AppEnv>, next: string | undefined, fallback: string, params: Record<string, string>) {
  return c.redirect(withNotice(safeNext(next, fallback), params), 303);
}

/**
 * Runs an operation form's request once per submission and goes back with a notice: the
 * operation is queued (its result follows on the page as it happens), or the form had
 * been sent already.
 */
async function queueFrom(
  c: Context<AppEnv>,
  form: Record<string, string | undefined>,
  fallback: string,
  request: () => Promise<{ operation: { id: string } }>,
) {
  const sent = await submitOnce(c, form[SUBMISSION_FIELD], async () => {
    await request();
    return withNotice(safeNext(form.next, fallback), { notice: 'operation-queued' });
  });
  const location = sent.repeated
    ? sent.location.replace('notice=operation-queued', 'notice=already-submitted')
    : sent.location;
  return c.redirect(location, 303);
}

const SearchQuery = z.object({ q: z.string().trim().min(2).max(200).optional() });

/** Clients: finding one, its page, and the work done in it from the dashboard. */
export function registerClientPages(app: WebApp): void {
  app.get('/dashboard/search', async (c) => {
    const parsed = SearchQuery.safeParse({ q: c.req.query('q') || undefined });
    if (!parsed.success) {
      throw new AppError('VALIDATION_FAILED', 'Search for at least two characters', {
        issues: fieldIssues(parsed.error),
      });
    }
    const text = parsed.data.q;
    const hits = text ? await searchPartnerData(c.var.deps.db, c.var.principal, text) : null;
    return renderPage(c, <SearchPage principal={c.var.principal} csrf={csrfToken(c)} text={text ?? ''} hits={hits} />);
  });

  app.get('/dashboard/clients/:orgId', async (c) => {
    const { db } = c.var.deps;
    const p = c.var.principal;
    const client = await clientOrganization(db, p, c.req.param('orgId'));
    const current = client.current;
    const [work, operations, audit] = await Promise.all([
      current ? clientWork(c, current) : null,
      seesClientOrganizations(p)
        ? listOperations(db, p, { clientOrgId: client.id, limit: PAGE }).then((r) => describeOperations(db, p, r.items))
        : null,
      p.isOwner ? queryAudit(db, partnerAuditScope(p, client.id), {}, { limit: 20 }).then((r) => r.items) : null,
    ]);
    return renderPage(
      c,
      <ClientPage
        principal={p}
        csrf={csrfToken(c)}
        client={client}
        work={work}
        mayEnd={canManageDelegations(p)}
        operations={operations}
        audit={audit}
        notice={notice(c)}
      />,
    );
  });

  app.post('/dashboard/delegations/:id/users', async (c) => {
    const form = await formFields(c);
    verifyCsrf(c, form.csrf);
    const id = c.req.param('id');
    const parsed = ProvisionUserBody.safeParse({
      displayName: form.displayName,
      userName: form.userName,
      ...(form.notifyEmail ? { notifyEmail: form.notifyEmail } : {}),
    });
    if (!parsed.success) {
      throw new AppError(
        'VALIDATION_FAILED',
        'Fill in a name and a user name (and a valid address to notify, if any).',
        {
          issues: fieldIssues(parsed.error),
        },
      );
    }
    return queueFrom(c, form, `/dashboard/delegations/${id}`, () =>
      requestProvisionUser(c.var.deps, c.var.principal, id, parsed.data, { requestId: c.var.requestId }),
    );
  });

  app.post('/dashboard/delegations/:id/users/:userId/password-reset', async (c) => {
    const form = await formFields(c);
    verifyCsrf(c, form.csrf);
    const id = c.req.param('id');
    return queueFrom(c, form, `/dashboard/delegations/${id}`, () =>
      requestPasswordReset(c.var.deps, c.var.principal, id, c.req.param('userId'), { requestId: c.var.requestId }),
    );
  });

  app.post('/dashboard/delegations/:id/domains', async (c) => {
    const form = await formFields(c);
    verifyCsrf(c, form.csrf);
    const id = c.req.param('id');
    return queueFrom(c, form, `/dashboard/delegations/${id}`, () =>
      requestAddDomain(c.var.deps, c.var.principal, id, String(form.name ?? '').slice(0, 300), {
        requestId: c.var.requestId,
      }),
    );
  });

  app.post('/dashboard/delegations/:id/domains/:name/verify', async (c) => {
    const form = await formFields(c);
    verifyCsrf(c, form.csrf);
    const id = c.req.param('id');
    return queueFrom(c, form, `/dashboard/delegations/${id}`, () =>
      requestVerifyDomain(c.var.deps, c.var.principal, id, c.req.param('name'), { requestId: c.var.requestId }),
    );
  });

  /** Proposes an amendment, like POST /v1/delegations/{id}/amendments: reductions at once, additions to the client. */
  app.post('/dashboard/delegations/:id/amendments', async (c) => {
    const form = await formFields(c);
    verifyCsrf(c, form.csrf);
    const id = c.req.param('id');
    const picked = (prefix: string) => roles.filter((role) => form[`${prefix}.${role}`] === 'on');
    const [addRoles, removeRoles] = [picked('add'), picked('remove')];
    const parsed = AmendmentRequestSchema.safeParse({
      ...(addRoles.length ? { addRoles } : {}),
      ...(removeRoles.length ? { removeRoles } : {}),
      ...(form.extendDays ? { extendDays: Number(form.extendDays) } : {}),
      ...(form.autoExtend === 'on' || form.autoExtend === 'off' ? { autoExtend: form.autoExtend === 'on' } : {}),
    });
    if (!parsed.success) {
      throw new AppError('VALIDATION_FAILED', 'The change is not valid', { issues: fieldIssues(parsed.error) });
    }
    const sent = await submitOnce(
      c,
      form[SUBMISSION_FIELD],
      async () => {
        const result = await proposeAmendment(c.var.deps, c.var.principal, id, parsed.data, c.var.requestId);
        const code = result.state === 'applied' ? 'amendment-applied' : 'amendment-pending';
        return withNotice(safeNext(form.next, `/dashboard/delegations/${id}`), { notice: code });
      },
      { inCommit: false },
    );
    return c.redirect(sent.repeated ? withNotice(sent.location, { notice: 'already-submitted' }) : sent.location, 303);
  });

  app.get('/dashboard/delegations/:id/end', async (c) => {
    const p = c.var.principal;
    const delegation = await getDelegation(c.var.deps.db, p, c.req.param('id'));
    if (!canManageDelegations(p)) {
      throw new AppError('NOT_AUTHORIZED', 'Only owners and staff with full access can end delegations');
    }
    return renderPage(
      c,
      <EndDelegationPage
        principal={p}
        csrf={csrfToken(c)}
        delegationId={delegation.id}
        clientName={delegation.recipient.company ?? delegation.recipient.email ?? 'this client'}
        next={safeNext(c.req.query('next'), `/dashboard/delegations/${delegation.id}`)}
      />,
    );
  });

  app.post('/dashboard/delegations/:id/end', async (c) => {
    const form = await formFields(c);
    verifyCsrf(c, form.csrf);
    const id = c.req.param('id');
    await terminateByPartner(c.var.deps, c.var.principal, id, c.var.requestId);
    return back(c, form.next, `/dashboard/delegations/${id}`, { notice: 'delegation-ended' });
  });
}
