import type { App } from '../env.ts';

// PLACEHOLDER — being written now (issue 6): bull-board at /admin/queues, owners only.
export function registerJobBoard(_app: App): void {}
