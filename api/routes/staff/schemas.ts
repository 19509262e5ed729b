import { z } from '@hono/zod-openapi';
import { staffAccessLevels } from '../../../core/access.ts';
import { plainText } from '../../../core/text.ts';

export const StaffAccess = z.enum(staffAccessLevels).openapi({
  description:
    'In every client the partner supports: `full` = everything the delegation allows; `limited` = reset passwords of non-admin users; `none` = nothing in client organizations.',
});

export const StaffSchema = z
  .object({
    userId: z.string(),
    email: z.string(),
    displayName: z.string(),
    access: StaffAccess,
    isOwner: z.boolean(),
  })
  .openapi('Staff');

export const CreateStaffBody = z
  .object({ email: z.email().max(254), displayName: plainText(200), access: StaffAccess })
  .strict()
  .openapi('CreateStaff');
