/**
 * The kinds of delegated operation: the one table that knows what each kind is called,
 * which job runs it and how it reads to people (the dashboard and the client's audit
 * trail). Everything else derives from it: the database's check constraint, the API's
 * enum, the job contracts, the worker's handlers (`Record<OperationKind, …>`, so the
 * compiler refuses a kind without one).
 */
export const operationKinds = {
  provision_user: { job: 'provision-user', label: 'Create a user', done: 'Created a user' },
  reset_password: { job: 'reset-password', label: 'Reset a password', done: 'Reset a password' },
  add_domain: { job: 'add-domain', label: 'Add a domain', done: 'Added a domain' },
  verify_domain: { job: 'verify-domain', label: 'Verify a domain', done: 'Verified a domain' },
} as const satisfies Record<string, { job: string; label: string; done: string }>;

export type OperationKind = keyof typeof operationKinds;
export type OperationJob = (typeof operationKinds)[OperationKind]['job'];

/** The kinds as a tuple, for enums (zod, Drizzle). */
export const operationKindNames = Object.keys(operationKinds) as [OperationKind, ...OperationKind[]];

/** The job of each kind. */
export const operationJobs = operationKindNames.map((kind) => operationKinds[kind].job) as OperationJob[];

/** "Create a user" → "create a user", for sentences. */
export function operationPhrase(kind: OperationKind): string {
  const { label } = operationKinds[kind];
  return label.charAt(0).toLowerCase() + label.slice(1);
}
