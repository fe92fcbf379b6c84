/**
 * Where a chart goes: a skeleton until uPlot's code has arrived (views/LineChart.tsx is its own chunk, fetched
 * on first use, which keeps it out of the first load's JavaScript budget), then the chart. The box is a named
 * image: its label states what the picture shows, for people who cannot see it.
 */
import { useEffect } from "preact/hooks";
import { signal } from "@preact/signals";
import type { LineChartProps } from "./LineChart";
import { useApp } from "./context";

type ChartModule = typeof import("./LineChart");

/** The loaded module, shared by every chart of the page; null until it arrives. */
const loaded = signal<ChartModule | null>(null);
let loading: Promise<void> | null = null;

function load(): void {
  loading ??= import("./LineChart")
    .then((module) => {
      loaded.value = module;
    })
    .catch(() => {
      // A failed chunk (offline) leaves the skeleton's text; the next mount tries again.
      loading = null;
    });
}

export function Chart(props: LineChartProps & { label: string; testid: string }) {
  const { theme } = useApp();
  useEffect(load, []);
  const module = loaded.value;
  return (
    <div class="chart" role="img" aria-label={props.label} data-testid={props.testid} data-ready={module !== null ? "true" : "false"}>
      {module === null ? (
        <div class="skeleton" aria-hidden="true">
          <span class="block" />
        </div>
      ) : (
        <module.LineChart key={theme.scheme.value} {...props} />
      )}
    </div>
  );
}
