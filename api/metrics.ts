import type { App } from './env.ts';

// PLACEHOLDER — being written now (issue 6, metrics): the /metrics endpoint and HTTP timing.

/** Records one HTTP request's duration under its route pattern. */
export function observeHttpRequest(_method: string, _route: string, _status: number, _seconds: number): void {}

/** Serves Prometheus metrics at /metrics. */
export function registerMetricsEndpoint(_app: App): void {}
