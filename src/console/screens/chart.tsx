/**
 * A small inline-SVG chart for the reports: grouped bars or lines over labelled points, with
 * a value axis, a legend and a text alternative. No chart library: this is all the reports
 * need, in a few hundred bytes, and it keeps the console's JavaScript budget. Colours come
 * from the stylesheet (`.series-N`): SVG attributes and classes only, as the CSP allows.
 */

/** One line or set of bars. */
export interface Series {
  name: string;
  values: number[];
}

export interface ChartProps {
  kind: "bar" | "line";
  /** What the chart shows, for screen readers (`<title>`) and the test id `chart`. */
  title: string;
  /** One label per point, along the bottom. */
  labels: string[];
  series: Series[];
}

const WIDTH = 640;
const HEIGHT = 240;
const LEFT = 40;
const BOTTOM = 24;
const TOP = 8;
/** Most x-axis labels shown: more would overlap, so only every n-th is drawn. */
const MAX_LABELS = 12;

/** A value axis top that is a round number at or above `max` (1, 2, 5 × 10^n). */
function niceMax(max: number): number {
  if (max <= 1) return 1;
  const power = 10 ** Math.floor(Math.log10(max));
  const step = [1, 2, 5, 10].find((f) => f * power >= max) ?? 10;
  return step * power;
}

export function Chart(props: ChartProps) {
  const { labels, series } = props;
  const top = niceMax(Math.max(0, ...series.flatMap((s) => s.values)));
  const plotW = WIDTH - LEFT;
  const plotH = HEIGHT - BOTTOM - TOP;
  const slot = plotW / Math.max(1, labels.length);
  const y = (v: number) => TOP + plotH - (v / top) * plotH;
  const x = (i: number) => LEFT + slot * i + slot / 2;
  const every = Math.ceil(labels.length / MAX_LABELS);
  const barW = (slot * 0.8) / Math.max(1, series.length);
  return (
    <figure class="chart" data-testid="chart" data-kind={props.kind}>
      <svg viewBox={`0 0 ${WIDTH} ${HEIGHT}`} role="img" aria-label={props.title}>
        <title>{props.title}</title>
        {[0, top / 2, top].map((v) => (
          <g key={v} class="grid">
            <line x1={LEFT} x2={WIDTH} y1={y(v)} y2={y(v)} />
            <text x={LEFT - 4} y={y(v) + 4} text-anchor="end">
              {Number.isInteger(v) ? v : v.toFixed(1)}
            </text>
          </g>
        ))}
        {labels.map((label, i) =>
          i % every === 0 ? (
            <text key={label} class="axis-label" x={x(i)} y={HEIGHT - 6} text-anchor="middle">
              {label}
            </text>
          ) : null,
        )}
        {series.map((s, n) =>
          props.kind === "bar" ? (
            <g key={s.name} class={`series-${n}`}>
              {s.values.map((v, i) => (
                <rect
                  key={labels[i]}
                  x={x(i) - (slot * 0.8) / 2 + n * barW}
                  y={y(v)}
                  width={Math.max(1, barW - 1)}
                  height={Math.max(0, TOP + plotH - y(v))}
                >
                  <title>{`${s.name}, ${labels[i]}: ${v}`}</title>
                </rect>
              ))}
            </g>
          ) : (
            <g key={s.name} class={`series-${n}`}>
              <polyline points={s.values.map((v, i) => `${x(i)},${y(v)}`).join(" ")} />
              {s.values.map((v, i) => (
                <circle key={labels[i]} cx={x(i)} cy={y(v)} r={3}>
                  <title>{`${s.name}, ${labels[i]}: ${v}`}</title>
                </circle>
              ))}
            </g>
          ),
        )}
      </svg>
      <figcaption>
        <ul class="legend">
          {series.map((s, n) => (
            <li key={s.name} class={`series-${n}`}>
              {s.name}
            </li>
          ))}
        </ul>
      </figcaption>
    </figure>
  );
}
