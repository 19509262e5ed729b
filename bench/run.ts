/**
 * `npm run bench`: runs every benchmark, prints a table and records it in
 * docs/benchmarks.md. BENCH_RECIPIENTS changes the campaign size (default 10,000).
 */
import { benchCampaign } from './campaign.ts';
import { recordResults, startSinkProcess } from './support.ts';

const recipients = Number(process.env.BENCH_RECIPIENTS ?? 10_000);
const sink = await startSinkProcess();
try {
  const campaign = await benchCampaign(sink, recipients);
  const fmt = (n: number) => n.toLocaleString('en', { maximumFractionDigits: 0 });
  const table = [
    '| benchmark | Mandate | baseline | ratio | target |',
    '|---|---|---|---|---|',
    `| campaign of ${fmt(campaign.recipients)}, end to end (messages/s) | ${fmt(campaign.mandatePerSecond)} | ${fmt(campaign.baselinePerSecond)} (bare nodemailer, pool of 5) | ${campaign.ratio.toFixed(2)} | ≥ 0.70 |`,
    `| the same with MAIL_UNCONFIRMED_MAX=5 (messages/s) | ${fmt(campaign.mandateLooserPerSecond)} | ${fmt(campaign.baselinePerSecond)} | ${(campaign.mandateLooserPerSecond / campaign.baselinePerSecond).toFixed(2)} | — |`,
    `| POST /v1/campaigns with ${fmt(campaign.recipients)} recipients (ms) | ${fmt(campaign.postMs)} | — | — | < 2,000 |`,
  ].join('\n');
  console.log(table);
  recordResults('npm run bench', table, [
    'End to end: from sending the POST until the SMTP sink (a separate process) has every message.',
    'Mandate runs as `npm start` (API and workers in one process, MAIL_CONCURRENCY 20, SMTP_POOL_SIZE 5, no send rate limit) against local PostgreSQL and Redis.',
    'MAIL_UNCONFIRMED_MAX=1 (the default) lets one message per process at a time be delivered but not yet recorded, so a crash duplicates at most one email; the end of each message waits its turn, which costs throughput. 5 allows five (five duplicates per crash at most).',
  ]);
} finally {
  sink.stop();
}
