import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { CampaignSchema } from '../api/routes/campaigns/schemas.ts';
import {
  type ApiClient,
  ApiError,
  apiCommandOptions,
  ConnectionError,
  createApiClient,
  parseCampaignCommand,
  resolveConnection,
} from './api-client.ts';
import {
  type CampaignView,
  campaignExitCode,
  campaignProgress,
  campaignSummaryJson,
  exitCodes,
  fitToWidth,
  formatCampaignSummary,
  formatProgressLine,
  type RateEstimate,
  updateRate,
} from './progress.ts';

export const campaignStatusUsage = `Usage: mandate campaign status <campaign id> [--watch] [--json] [--url <url>] [--token <token>]

Prints a campaign's progress once: recipients sent, failed and waiting, and rows of its
file rejected. With --watch: a live progress line until it is done, then the summary.
With --json: one line of JSON on stdout.

Exit code: 0 every recipient sent, 1 some failed, 3 still sending,
2 usage, connection or HTTP errors.
Connection: --url or MANDATE_URL (default http://localhost:3000), --token or MANDATE_TOKEN.`;

/** Reads one campaign: `GET /v1/campaigns/{id}`. */
export async function fetchCampaign(client: ApiClient, id: string, signal?: AbortSignal): Promise<CampaignView> {
  const { data } = await client.call(
    (api, deadline) => api.GET('/v1/campaigns/{id}', { params: { path: { id } }, signal: deadline }),
    CampaignSchema,
    signal ? { signal } : {},
  );
  return data;
}

export interface WatchOptions {
  /** Where the progress goes (default stderr): redrawn in place on a TTY, lines every `logEveryMs` otherwise. */
  stream?: NodeJS.WriteStream;
  /** Time between polls (default 1 s). */
  pollMs?: number;
  /** Without a TTY, at most one line this often, plus the first and the last (default 10 s). */
  logEveryMs?: number;
  /** How long polls may keep failing (server restarting, network gone) before giving up (default 2 min). */
  patienceMs?: number;
}

/**
 * Polls the campaign until it is done and shows its progress. Returns the last view, or
 * `interrupted` when the user pressed Ctrl-C (the campaign goes on without us).
 */
export async function watchCampaign(
  client: ApiClient,
  id: string,
  options: WatchOptions = {},
): Promise<CampaignView | 'interrupted'> {
  const stream = options.stream ?? process.stderr;
  const pollMs = options.pollMs ?? 1000;
  const logEveryMs = options.logEveryMs ?? 10_000;
  const patienceMs = options.patienceMs ?? 120_000;
  const tty = stream.isTTY === true;
  const stop = new AbortController();
  const onInterrupt = () => stop.abort();
  process.once('SIGINT', onInterrupt);

  let rate: RateEstimate | undefined;
  let lastLogAt = Number.NEGATIVE_INFINITY;
  let failingSince: number | undefined;
  let drawn = false;
  const draw = (line: string, final: boolean) => {
    if (tty) {
      stream.write(`\r${fitToWidth(line, stream.columns)}\x1b[K${final ? '\n' : ''}`);
      drawn = !final;
    } else {
      stream.write(`${line}\n`);
    }
  };
  try {
    for (;;) {
      let view: CampaignView | undefined;
      try {
        view = await fetchCampaign(client, id, stop.signal);
        failingSince = undefined;
      } catch (error) {
        if (stop.signal.aborted) break;
        const transient = error instanceof ConnectionError || (error instanceof ApiError && error.transient);
        if (!transient) throw error;
        failingSince ??= performance.now();
        if (performance.now() - failingSince > patienceMs) throw error;
      }
      if (view) {
        const now = performance.now();
        const progress = campaignProgress(view);
        rate = updateRate(rate, progress.sent + progress.failed, now);
        const line = formatProgressLine(progress, rate.perSecond);
        if (progress.done) {
          draw(line, true);
          return view;
        }
        if (tty || now - lastLogAt >= logEveryMs) {
          draw(line, false);
          lastLogAt = now;
        }
      }
      try {
        await sleep(pollMs, undefined, { signal: stop.signal });
      } catch {
        break;
      }
    }
    if (drawn) stream.write('\n');
    stream.write(
      `Stopped watching; the campaign goes on. Follow it with: npm run mandate -- campaign status ${id} --watch\n`,
    );
    return 'interrupted';
  } catch (error) {
    if (drawn) stream.write('\n');
    throw error;
  } finally {
    process.removeListener('SIGINT', onInterrupt);
  }
}

/** Prints the final summary of a campaign on stdout; returns the exit code it calls for. */
export function printCampaignSummary(view: CampaignView, json: boolean): number {
  process.stdout.write(`${json ? campaignSummaryJson(view) : formatCampaignSummary(view)}\n`);
  return campaignExitCode(campaignProgress(view), view.rejectedCount);
}

/** `mandate campaign status <id>`. */
export async function runCampaignStatus(argv: string[]): Promise<number> {
  const command = parseCampaignCommand(argv, parseStatusArgs, campaignStatusUsage);
  if (!command) return exitCodes.ok;
  const { values, id } = command;
  const client = createApiClient(resolveConnection(values, process.env, campaignStatusUsage));
  if (values.watch) {
    const view = await watchCampaign(client, id);
    if (view === 'interrupted') return exitCodes.interrupted;
    return printCampaignSummary(view, values.json);
  }
  return printCampaignSummary(await fetchCampaign(client, id), values.json);
}

function parseStatusArgs(argv: string[]) {
  return parseArgs({
    args: argv,
    options: {
      watch: { type: 'boolean', default: false },
      ...apiCommandOptions,
    },
    allowPositionals: true,
    strict: true,
  });
}
