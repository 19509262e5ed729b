import type { Bucket } from '../../../../services/dashboard/dashboard.ts';

/**
 * A bar chart drawn on the server as SVG: no script, no library, readable by screen
 * readers through its title and each bar's tooltip.
 */
export function BarChart(props: { title: string; buckets: Bucket[]; label: (at: Date) => string; every: number }) {
  const width = 600;
  const height = 160;
  const left = 34;
  const bottom = 20;
  const max = Math.max(1, ...props.buckets.map((b) => b.n));
  const slot = (width - left) / Math.max(1, props.buckets.length);
  const scale = (height - bottom - 8) / max;
  return (
    <svg class="chart" viewBox={`0 0 ${width} ${height}`} role="img" aria-label={props.title}>
      <title>{props.title}</title>
      <line class="axis" x1={left} y1={height - bottom} x2={width} y2={height - bottom} />
      <text x={left - 4} y={12} text-anchor="end">
        {String(max)}
      </text>
      <text x={left - 4} y={height - bottom} text-anchor="end">
        0
      </text>
      {props.buckets.map((b, i) => {
        const h = b.n * scale;
        const x = left + i * slot;
        return (
          <g>
            <rect class="b" x={x + 1} y={height - bottom - h} width={Math.max(1, slot - 2)} height={h}>
              <title>{`${props.label(b.at)}: ${b.n}`}</title>
            </rect>
            {i % props.every === 0 ? (
              <text x={x} y={height - 5}>
                {props.label(b.at)}
              </text>
            ) : null}
          </g>
        );
      })}
    </svg>
  );
}
