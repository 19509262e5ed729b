import { AppError } from '../../../core/errors.ts';
import { createStaff, listStaff, setStaffAccess } from '../../../services/accounts/staff.ts';
import type { WebApp } from '../../env.ts';
import { fieldIssues } from '../../problem.ts';
import { CreateStaffBody, StaffAccess } from '../../routes/staff/schemas.ts';
import { csrfToken, formFields, renderPage, verifyCsrf } from '../shared/context.ts';
import { StaffPage } from './pages/staff.tsx';
import { notice } from './query.ts';

/** The partner's staff and their access (owners only: `requireOwnerSession` on the area). */
export function registerStaffPages(app: WebApp): void {
  app.get('/dashboard/staff', async (c) =>
    renderPage(
      c,
      <StaffPage
        principal={c.var.principal}
        csrf={csrfToken(c)}
        staff={await listStaff(c.var.deps, c.var.principal)}
        notice={notice(c)}
      />,
    ),
  );

  app.post('/dashboard/staff', async (c) => {
    const form = await formFields(c);
    verifyCsrf(c, form.csrf);
    const parsed = CreateStaffBody.safeParse({ email: form.email, displayName: form.displayName, access: form.access });
    if (!parsed.success) {
      throw new AppError('VALIDATION_FAILED', 'Fill in a name, a valid email and an access level.', {
        issues: fieldIssues(parsed.error),
      });
    }
    const created = await createStaff(c.var.deps, c.var.principal, parsed.data, c.var.requestId);
    return renderPage(
      c,
      <StaffPage
        principal={c.var.principal}
        csrf={csrfToken(c)}
        staff={await listStaff(c.var.deps, c.var.principal)}
        created={created}
      />,
      201,
    );
  });

  app.post('/dashboard/staff/:userId/access', async (c) => {
    const form = await formFields(c);
    verifyCsrf(c, form.csrf);
    const access = StaffAccess.safeParse(form.access);
    if (!access.success) throw new AppError('VALIDATION_FAILED', 'Choose none, limited or full.');
    await setStaffAccess(c.var.deps, c.var.principal, c.req.param('userId'), { access: access.data }, c.var.requestId);
    return c.redirect('/dashboard/staff?notice=access-saved', 303);
  });
}
