import { z } from 'zod';

/** What a password a person chooses must be, wherever they choose it (sign-up, change, invitation). */
export const chosenPassword = z
  .string()
  .min(12, 'The password must have at least 12 characters')
  .max(200, 'The password is too long');

/** A new password typed twice. */
export const newPasswordForm = z
  .object({ password: chosenPassword, repeat: z.string() })
  .refine((f) => f.password === f.repeat, 'The two passwords are not the same');
