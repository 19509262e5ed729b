import type { Context } from 'hono';
import { AppError } from '../../../core/errors.ts';
import { listStaff, setStaffAccess } from '../../../services/accounts/staff.ts';
import { inviteStaff, listInvitations, revokeInvitation } from '../../../services/accounts/staff-invitations.ts';
import { removeStaff } from '../../../services/accounts/staff-removal.ts';
import type { AppEnv, WebApp } from '../../env.ts';
import { fieldIssues } from '../../problem.ts';
import { CreateStaffBody, StaffAccess } from '../../routes/staff/schemas.ts';
import { csrfToken, formFields, renderPage, verifyCsrf } from '../shared/context.ts';
import { StaffPage } from './pages/staff.tsx';
import { notice } from './query.ts';

async function staffPage(c: Context<AppEnv>, notice: string | undefined, status = 200) {
  const [staff, invitations] = await Promise.all([
    listStaff(c.var.deps, c.var.principal),
    listInvitations(c.var.deps, c.var.principal),
  ]);
  return renderPage(
    c,
    <StaffPage
      principal={c.var.principal}
      csrf={csrfToken(c)}
      staff={staff}
      invitations={invitations}
      notice={notice}
    />,
    status,
  );
}

/** The partner's staff, their access and pending invitations (owners only: `requireOwnerSession` on the area). */
export function registerStaffPages(app: WebApp): void {
  app.get('/dashboard/staff', (c) => staffPage(c, notice(c)));

  /** Invites a staff member: the same answer for every address, like POST /v1/staff. */
  app.post('/dashboard/staff', async (c) => {
    const form = await formFields(c);
    verifyCsrf(c, form.csrf);
    const parsed = CreateStaffBody.safeParse({ email: form.email, displayName: form.displayName, access: form.access });
    if (!parsed.success) {
      throw new AppError('VALIDATION_FAILED', 'Fill in a name, a valid email and an access level.', {
        issues: fieldIssues(parsed.error),
      });
    }
    const sent = await inviteStaff(c.var.deps, c.var.principal, parsed.data, c.var.requestId);
    return staffPage(c, `${sent.email}: ${sent.message}`, 202);
  });

  app.post('/dashboard/staff/invitations/:id/revoke', async (c) => {
    const form = await formFields(c);
    verifyCsrf(c, form.csrf);
    await revokeInvitation(c.var.deps, c.var.principal, c.req.param('id'), c.var.requestId);
    return c.redirect('/dashboard/staff?notice=invitation-revoked', 303);
  });

  app.post('/dashboard/staff/:userId/access', async (c) => {
    const form = await formFields(c);
    verifyCsrf(c, form.csrf);
    const access = StaffAccess.safeParse(form.access);
    if (!access.success) throw new AppError('VALIDATION_FAILED', 'Choose none, limited or full.');
    await setStaffAccess(c.var.deps, c.var.principal, c.req.param('userId'), { access: access.data }, c.var.requestId);
    return c.redirect('/dashboard/staff?notice=access-saved', 303);
  });

  /** Removes a staff member, like DELETE /v1/staff/{userId}. */
  app.post('/dashboard/staff/:userId/remove', async (c) => {
    const form = await formFields(c);
    verifyCsrf(c, form.csrf);
    await removeStaff(c.var.deps, c.var.principal, c.req.param('userId'), c.var.requestId);
    return c.redirect('/dashboard/staff?notice=staff-removed', 303);
  });
}
