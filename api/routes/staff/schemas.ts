import { z } from '@hono/zod-openapi';
import { staffAccessLevels } from '../../../core/access.ts';
import { roles } from '../../../core/roles.ts';
import { plainText } from '../../../core/text.ts';
import { RoleSchema } from '../../schemas.ts';

export const StaffAccess = z.enum(staffAccessLevels).openapi({
  description:
    'A preset, in every client the partner supports: `full` = `global_admin` (everything the delegation allows); `limited` = `password_admin` (reset passwords of non-admin users); `none` = no role, nothing in client organizations.',
});

const StaffRoles = z.array(RoleSchema).max(roles.length).openapi({
  description:
    "The staff member's roles, instead of `access` (empty: nothing in client organizations). What they may do in a client is what the client granted ∩ these roles.",
});

export const StaffSchema = z
  .object({
    userId: z.string(),
    email: z.string(),
    displayName: z.string(),
    roles: z.array(RoleSchema),
    access: StaffAccess.optional().openapi({ description: 'The preset the roles are exactly, when they are one' }),
    isOwner: z.boolean(),
  })
  .openapi('Staff');

export const CreateStaffBody = z
  .object({
    email: z.email().max(254),
    displayName: plainText(200),
    access: StaffAccess.optional(),
    roles: StaffRoles.optional(),
  })
  .strict()
  .openapi('CreateStaff');

export const SetStaffAccessBody = z
  .object({ access: StaffAccess.optional(), roles: StaffRoles.optional() })
  .strict()
  .openapi('SetStaffAccess');

export const InvitationSentSchema = z
  .object({
    email: z.string(),
    message: z.string().openapi({ description: 'The same words for every address' }),
  })
  .openapi('InvitationSent');

export const InvitationSchema = z
  .object({
    id: z.string().openapi({ example: 'inv_0193a0c4a7f47c2a9d1e5b3f6a8c9d0e' }),
    email: z.string(),
    displayName: z.string(),
    roles: z.array(RoleSchema),
    access: StaffAccess.optional().openapi({ description: 'The preset the roles are exactly, when they are one' }),
    invitedAt: z.string().openapi({ format: 'date-time' }),
    expiresAt: z.string().openapi({ format: 'date-time' }),
  })
  .openapi('StaffInvitation');
