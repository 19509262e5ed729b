/**
 * The pure side of `campaign send` and `campaign status`: what a campaign's counts mean
 * to the person watching, the smoothed send rate, the ETA, the bar and the summary.
 * No I/O and no clock: callers pass the time in.
 */

import type { DelegationState } from '../core/delegation-machine.ts';
import { sanitizeEcho } from '../core/text.ts';
import type { components } from './api-types.ts';

/** Exit codes of the campaign commands. */
export const exitCodes = {
  /** Every recipient was sent (rows the file check rejected were listed before sending). */
  ok: 0,
  /** Some recipient failed (each is listed). */
  failed: 1,
  /** Usage, connection or HTTP errors: nothing about the campaign is known. */
  error: 2,
  /** `campaign status`: still sending, nothing failed so far. */
  sending: 3,
  /** Stopped watching with Ctrl-C; the campaign goes on. */
  interrupted: 130,
} as const;

/** A campaign as `GET /v1/campaigns/{id}` returns it (its type in the generated contract). */
export type CampaignView = components['schemas']['Campaign'];

export interface CampaignProgress {
  total: number;
  /** Recipients whose offer email the mail server took: every state past `invited` but `failed`. */
  sent: number;
  /** Recipients in `failed`: the email was refused for good (or, rarer, the acceptance failed). */
  failed: number;
  /** Recipients still `invited`: waiting for their email, or for a retry of it. */
  remaining: number;
  done: boolean;
}

/** Sent / failed / remaining from the counts by delegation state. */
export function campaignProgress(view: Pick<CampaignView, 'counts' | 'done'>): CampaignProgress {
  const entries = Object.entries(view.counts) as [DelegationState, number][];
  const total = entries.reduce((sum, [, n]) => sum + n, 0);
  const failed = view.counts.failed;
  const remaining = view.counts.invited;
  return { total, sent: total - failed - remaining, failed, remaining, done: view.done };
}

export interface RateEstimate {
  /** When the last sample was taken (ms, any monotonic clock). */
  atMs: number;
  /** Recipients processed (sent + failed) at that time. */
  processed: number;
  /** Smoothed recipients per second; undefined until two samples are apart in time. */
  perSecond: number | undefined;
}

/** How fast the smoothed rate follows a change: half the weight goes to the last 10 seconds. */
export const RATE_HALF_LIFE_MS = 10_000;

/**
 * Folds one sample into the rate: an exponentially weighted moving average of the
 * instantaneous rate, weighted by the time between samples, so polls that come late or
 * early weigh what they cover. Work flowing back (a retry moving `failed` to `invited`)
 * counts as no progress, not as negative speed.
 */
export function updateRate(
  previous: RateEstimate | undefined,
  processed: number,
  atMs: number,
  halfLifeMs = RATE_HALF_LIFE_MS,
): RateEstimate {
  if (!previous) return { atMs, processed, perSecond: undefined };
  const elapsedMs = atMs - previous.atMs;
  if (elapsedMs <= 0) return { ...previous, processed };
  const instant = (Math.max(0, processed - previous.processed) * 1000) / elapsedMs;
  const weight = 1 - 2 ** (-elapsedMs / halfLifeMs);
  const perSecond =
    previous.perSecond === undefined ? instant : previous.perSecond + weight * (instant - previous.perSecond);
  return { atMs, processed, perSecond };
}

/** Seconds until `remaining` are processed at `perSecond`; undefined when it cannot be told. */
export function etaSeconds(remaining: number, perSecond: number | undefined): number | undefined {
  if (remaining <= 0) return 0;
  if (perSecond === undefined || !(perSecond > 0.01)) return undefined;
  return remaining / perSecond;
}

/** `42s`, `3m05s`, `2h07m`. */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.ceil(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** `[#########---------------]`: the share of recipients processed (sent or failed). ASCII, so any log shows it. */
export function renderBar(processed: number, total: number, width = 24): string {
  const fraction = total > 0 ? Math.min(1, Math.max(0, processed / total)) : 1;
  // Full only when everything is processed: 99.9% must not look finished.
  const filled = fraction < 1 ? Math.min(width - 1, Math.round(fraction * width)) : width;
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}]`;
}

const number = (n: number) => n.toLocaleString('en');

function formatRate(perSecond: number | undefined): string {
  if (perSecond === undefined) return '– msg/s';
  return `${perSecond < 10 ? perSecond.toFixed(1) : number(Math.round(perSecond))} msg/s`;
}

/** The live line: bar, percentage, sent / failed / remaining, rate and ETA. */
export function formatProgressLine(progress: CampaignProgress, perSecond: number | undefined): string {
  const processed = progress.sent + progress.failed;
  // Floored, so 100% is shown only when nothing remains.
  const percent = progress.total > 0 ? Math.floor((processed / progress.total) * 100) : 100;
  const eta = progress.done ? 'done' : etaSeconds(progress.remaining, perSecond);
  return [
    `${renderBar(processed, progress.total)} ${String(percent).padStart(3)}%`,
    `${number(progress.sent)} sent`,
    `${number(progress.failed)} failed`,
    `${number(progress.remaining)} remaining`,
    formatRate(perSecond),
    eta === 'done' ? 'done' : `ETA ${eta === undefined ? '–' : formatDuration(eta)}`,
  ].join(' · ');
}

/** Cuts a line to the terminal's width, so redrawing it in place never wraps. */
export function fitToWidth(line: string, columns: number | undefined): string {
  if (!columns || line.length < columns) return line;
  return `${line.slice(0, Math.max(0, columns - 2))}…`;
}

/**
 * 0 when every recipient was sent; 1 when any failed; 3 while still sending. Rows rejected
 * by the file check do not count: they were listed before anything was sent.
 */
export function campaignExitCode(progress: CampaignProgress, _rejected: number): number {
  if (progress.failed > 0) return exitCodes.failed;
  return progress.done ? exitCodes.ok : exitCodes.sending;
}

/** The one JSON line `--json` prints on stdout. */
export function campaignSummaryJson(view: CampaignView): string {
  const progress = campaignProgress(view);
  return JSON.stringify({
    id: view.id,
    name: view.name,
    offerId: view.offerId,
    createdAt: view.createdAt,
    done: view.done,
    total: progress.total,
    sent: progress.sent,
    failed: progress.failed,
    remaining: progress.remaining,
    rejected: view.rejectedCount,
    counts: view.counts,
  });
}

const plural = (n: number, one: string, many = `${one}s`) => `${number(n)} ${n === 1 ? one : many}`;

/** The human summary on stdout: what happened, and what to do about failures. */
export function formatCampaignSummary(view: CampaignView): string {
  const progress = campaignProgress(view);
  // The states "sent" covers, for those who want to know how far recipients got.
  const beyond = (Object.entries(view.counts) as [DelegationState, number][])
    .filter(([state, n]) => n > 0 && state !== 'invited' && state !== 'failed')
    .map(([state, n]) => `${number(n)} ${state}`);
  const lines = [
    `Campaign ${view.id} "${sanitizeEcho(view.name, 200)}" (offer ${view.offerId})`,
    `  ${plural(progress.total, 'recipient')}: ${number(progress.sent)} sent${beyond.length > 0 ? ` (${beyond.join(', ')})` : ''}, ${number(progress.failed)} failed, ${number(progress.remaining)} waiting`,
  ];
  if (view.rejectedCount > 0) lines.push(`  ${plural(view.rejectedCount, 'row')} of the file rejected (not sent)`);
  lines.push(progress.done ? '  Done.' : '  Still sending.');
  if (progress.failed > 0) {
    lines.push(
      `  Failed recipients with the mail server's reply: npm run mandate -- campaign failed ${view.id} --csv failed.csv`,
    );
  }
  return lines.join('\n');
}
