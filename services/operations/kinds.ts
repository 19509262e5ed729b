import type { OperationKind } from '../../db/schema/index.ts';

/** The job that runs each kind of operation. */
export const jobForKind = {
  provision_user: 'provision-user',
  reset_password: 'reset-password',
  add_domain: 'add-domain',
  verify_domain: 'verify-domain',
} as const satisfies Record<OperationKind, string>;
