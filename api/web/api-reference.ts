import type { App } from '../env.ts';

// PLACEHOLDER — being written now (issue 6): the interactive API reference at /docs.
export function registerApiReference(_app: App): void {}
