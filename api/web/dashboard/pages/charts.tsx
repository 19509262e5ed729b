import type { Bucket } from '../../../../services/dashboard/dashboard.ts';

/**
 * A bar chart drawn on the server: the bars an SVG stretched to the width of the page,
 * the labels HTML beside and under it — so the text keeps the page's size on a phone and
 * on a wide screen alike (text inside a scaled SVG scales with it). No script, no library;
 * screen readers get its title and each bar's tooltip.
 */
export function BarChart(props: { title: string; buckets: Bucket[]; label: (at: Date) => string; every: number }) {
  const width = 600;
  const height = 100;
  const max = Math.max(1, ...props.buckets.map((b) => b.n));
  const slot = width / Math.max(1, props.buckets.length);
  const scale = height / max;
  return (
    <figure class="chart" aria-label={props.title}>
      <div class="chart-y" aria-hidden="true">
        <span>{String(max)}</span>
        <span>0</span>
      </div>
      <svg viewBox={`0 0 ${width} ${height}`} preserveAspectRatio="none" role="img" aria-label={props.title}>
        <title>{props.title}</title>
        {props.buckets.map((b, i) => {
          const h = b.n * scale;
          return (
            <rect class="b" x={i * slot + 1} y={height - h} width={Math.max(1, slot - 2)} height={h}>
              <title>{`${props.label(b.at)}: ${b.n}`}</title>
            </rect>
          );
        })}
      </svg>
      <div class="chart-x" aria-hidden="true">
        {props.buckets.map((b, i) =>
          i % props.every === 0 ? <span style={`left:${((i * slot) / width) * 100}%`}>{props.label(b.at)}</span> : null,
        )}
      </div>
    </figure>
  );
}
