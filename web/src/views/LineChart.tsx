/**
 * A line chart drawn with uPlot (issue 18), loaded on demand by views/Chart.tsx so the first page load does not
 * carry it. It reads its colours from the stylesheet's tokens, so it follows the theme (Chart passes the theme's
 * change count as a key, which rebuilds it), and it sizes itself to its container.
 */
import { useEffect, useRef } from "preact/hooks";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import type { Series } from "../insights";

export interface LineChartProps {
  /** One or two series sharing x (Unix seconds); the second is drawn dashed in the second chart colour. */
  series: { x: number[]; ys: number[][]; labels: string[] };
  /** Formats a y value (integer minor units) for the axis. */
  formatY: (minor: number) => string;
  /** Steps (a balance holds its value until the next entry) or straight lines. */
  stepped: boolean;
  height?: number;
}

function token(name: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || "#888";
}

const SECONDS = new Intl.DateTimeFormat(undefined, { hour: "numeric", minute: "2-digit", second: "2-digit" });
const CLOCK = new Intl.DateTimeFormat(undefined, { hour: "numeric", minute: "2-digit" });
const DAY = new Intl.DateTimeFormat(undefined, { month: "short", day: "numeric" });

/**
 * One-line time labels: the time of day (with seconds under ten minutes) when the ticks span less than two days,
 * else the date. uPlot's own labels add a second line with the full date, which overlaps the next label on a
 * narrow card (a phone, the auditor's half-width chart).
 */
function timeLabels(_u: uPlot, ticks: number[]): string[] {
  const span_s = (ticks[ticks.length - 1] ?? 0) - (ticks[0] ?? 0);
  const format = span_s < 600 ? SECONDS : span_s < 2 * 86_400 ? CLOCK : DAY;
  return ticks.map((t) => format.format(new Date(t * 1_000)));
}

function options(props: LineChartProps, width: number): uPlot.Options {
  const text = token("--muted");
  const grid = token("--chart-grid");
  const axis: uPlot.Axis = { stroke: text, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 }, font: "12px system-ui" };
  const stepped = uPlot.paths.stepped?.({ align: 1 });
  const colours = [token("--chart-line"), token("--chart-2")];
  return {
    width,
    height: props.height ?? 180,
    legend: { show: false },
    cursor: { drag: { x: false, y: false }, points: { size: 8 } },
    scales: { x: { time: true } },
    axes: [
      { ...axis, space: 70, values: timeLabels },
      { ...axis, size: 80, values: (_u, values) => values.map((v) => props.formatY(Math.round(v))) },
    ],
    series: [
      {},
      ...props.series.labels.map((label, i) => ({
        label,
        stroke: colours[i] ?? colours[0],
        width: 2,
        ...(i === 0 ? { fill: token("--chart-fill") } : { dash: [6, 4] }),
        ...(props.stepped && stepped !== undefined ? { paths: stepped } : {}),
        points: { show: false },
      })),
    ],
  };
}

/** The chart; the caller gives it an accessible name (it is a picture of numbers the page states in words). */
export function LineChart(props: LineChartProps) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const element = box.current;
    if (element === null) return undefined;
    const data: uPlot.AlignedData = [props.series.x, ...props.series.ys];
    const plot = new uPlot(options(props, Math.max(200, element.clientWidth)), data, element);
    const observer = new ResizeObserver(() => plot.setSize({ width: Math.max(200, element.clientWidth), height: props.height ?? 180 }));
    observer.observe(element);
    return () => {
      observer.disconnect();
      plot.destroy();
    };
  }, [props.series, props.stepped]);
  return <div ref={box} />;
}

export type { Series };
