import type { StateCounts } from '../../../../services/campaigns/campaigns.ts';

/** Where a campaign's recipients are: sent (any state past the email), failed, waiting. */
export function progressOf(counts: StateCounts, total: number) {
  const failed = counts.failed;
  const waiting = counts.invited;
  const sent = Math.max(0, total - failed - waiting);
  return {
    sent,
    failed,
    waiting,
    done: waiting === 0,
    percent: total > 0 ? Math.floor(((sent + failed) / total) * 100) : 100,
  };
}

/** A horizontal bar: green sent, red failed, grey waiting; its label says the same in words. */
export function ProgressBar(props: { counts: StateCounts; total: number }) {
  const p = progressOf(props.counts, props.total);
  const pct = (n: number) => `${props.total > 0 ? (n / props.total) * 100 : 0}%`;
  return (
    <div
      class="bar"
      role="progressbar"
      aria-valuemin={0}
      aria-valuemax={100}
      aria-valuenow={p.percent}
      aria-label={`${p.sent} sent, ${p.failed} failed, ${p.waiting} waiting`}
    >
      <span class="seg-done" style={`width:${pct(p.sent)}`} />
      <span class="seg-failed" style={`width:${pct(p.failed)}`} />
    </div>
  );
}
