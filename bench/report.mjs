// Renders the benchmark results: a Markdown table with every figure as a ratio to the peer (and to our own
// no-op request), and an SVG chart of throughput and p99 against connections for us and the peer.

const fmt = (n, digits = 0) => (n === undefined || n === null ? "–" : Number(n).toFixed(digits));
const ratio = (a, b) => (a === undefined || b === undefined || !b ? "–" : `${(a / b).toFixed(2)}x`);
/** A median with the range of its repeats, e.g. `219 (201–240)`. */
const withRange = (x, key) => {
  if (x === undefined) return "–";
  const repeats = x.repeats ?? [];
  return repeats.length > 1 ? `${fmt(x[key])} (${fmt(Math.min(...repeats))}–${fmt(Math.max(...repeats))})` : fmt(x[key]);
};

/** The results table (Markdown). */
export function renderTable(r) {
  const find = (t, s) => t?.runs.find((x) => x.scenario === s);
  const ours = r.ours;
  const peer = r.peer;
  const noopOurs = find(ours, "noop")?.requests_per_s;
  const lines = [
    `Run ${r.at} on ${r.machine}: ${r.wallets} wallets, ${r.connections} connections, ${r.seconds} s per run; each figure is the median of ${r.repeats ?? 1} runs that alternated between the two stacks (the range of the runs in brackets).`,
    "",
    "| scenario | ours tx/s | ours p50 / p95 / p99 ms | peer-pg tx/s | peer p50 / p95 / p99 ms | ours ÷ peer | ours ÷ our no-op | CPU ms per transfer, ours / peer | ours peak MiB | conserved |",
    "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
  ];
  const noopPeer = find(peer, "noop")?.requests_per_s;
  lines.push(
    `| no-op request | ${withRange(find(ours, "noop"), "requests_per_s")} req/s | | ${withRange(find(peer, "noop"), "requests_per_s")} req/s | | ${ratio(noopOurs, noopPeer)} | 1.00x | | | |`,
  );
  // Server CPU (every process of the server: workerd; Node and every postgres process for the peer) per transfer.
  const cpuMs = (x) => (x?.server_cpu_s && x?.succeeded ? fmt((x.server_cpu_s * 1_000) / x.succeeded, 2) : "–");
  for (const s of ["uniform", "hot", "disjoint"]) {
    const o = find(ours, s);
    const p = find(peer, s);
    lines.push(
      `| ${s} | ${withRange(o, "transfers_per_s")} | ${fmt(o?.p50_ms, 1)} / ${fmt(o?.p95_ms, 1)} / ${fmt(o?.p99_ms, 1)} | ${withRange(p, "transfers_per_s")} | ${p ? `${fmt(p.p50_ms, 1)} / ${fmt(p.p95_ms, 1)} / ${fmt(p.p99_ms, 1)}` : "–"} | ${ratio(o?.transfers_per_s, p?.transfers_per_s)} | ${ratio(o?.transfers_per_s, noopOurs)} | ${cpuMs(o)} / ${cpuMs(p)} | ${fmt(o?.server_peak_rss_mib)} | ${o?.conserved ? "yes" : "NO"}${p ? ` / ${p.conserved ? "yes" : "NO"}` : ""} |`,
    );
  }
  if (ours.history?.length) {
    lines.push("", "| history page (50 entries) | p50 ms | p99 ms |", "| --- | --- | --- |");
    for (const h of ours.history)
      lines.push(`| at ${h.entries.toLocaleString("en")} entries | ${fmt(h.p50_ms, 2)} | ${fmt(h.p99_ms, 2)} |`);
    const [a, b] = ours.history;
    if (a && b) lines.push("", `History p50 at 100,000 ÷ at 10,000: ${ratio(b.p50_ms, a.p50_ms)}.`);
  }
  return lines.join("\n");
}

/** Throughput and p99 against connections, ours and the peer's, as a small self-contained SVG. */
export function renderChart(r) {
  const series = [
    { name: "ours", color: "#1f6feb", points: r.ours?.sweep ?? [] },
    { name: "peer-pg", color: "#d1242f", points: r.peer?.sweep ?? [] },
  ].filter((s) => s.points.length > 0);
  const W = 720;
  const H = 300;
  const pad = 50;
  const conns = [...new Set(series.flatMap((s) => s.points.map((p) => p.connections)))].sort((a, b) => a - b);
  const maxTps = Math.max(1, ...series.flatMap((s) => s.points.map((p) => p.transfers_per_s)));
  const maxP99 = Math.max(1, ...series.flatMap((s) => s.points.map((p) => p.p99_ms)));
  const x = (c) => pad + (conns.indexOf(c) / Math.max(1, conns.length - 1)) * (W / 2 - 2 * pad);
  const panel = (offset, key, max, title) => {
    const y = (v) => H - pad - (v / max) * (H - 2 * pad);
    const lines = series
      .map((s) => {
        const d = s.points.map((p, i) => `${i ? "L" : "M"}${(offset + x(p.connections)).toFixed(1)},${y(p[key]).toFixed(1)}`).join(" ");
        const dots = s.points
          .map((p) => `<circle cx="${(offset + x(p.connections)).toFixed(1)}" cy="${y(p[key]).toFixed(1)}" r="3" fill="${s.color}"/>`)
          .join("");
        return `<path d="${d}" fill="none" stroke="${s.color}" stroke-width="2"/>${dots}`;
      })
      .join("");
    const ticks = conns
      .map((c) => `<text x="${offset + x(c)}" y="${H - pad + 16}" font-size="11" text-anchor="middle">${c}</text>`)
      .join("");
    return `<text x="${offset + W / 4}" y="20" font-size="13" text-anchor="middle" font-weight="bold">${title}</text>
<line x1="${offset + pad}" y1="${H - pad}" x2="${offset + W / 2 - pad}" y2="${H - pad}" stroke="#888"/>
<line x1="${offset + pad}" y1="${pad}" x2="${offset + pad}" y2="${H - pad}" stroke="#888"/>
<text x="${offset + pad - 6}" y="${pad + 4}" font-size="11" text-anchor="end">${Math.round(max)}</text>
<text x="${offset + pad - 6}" y="${H - pad}" font-size="11" text-anchor="end">0</text>
<text x="${offset + W / 4}" y="${H - 12}" font-size="11" text-anchor="middle">connections</text>${ticks}${lines}`;
  };
  const legend = series
    .map(
      (s, i) =>
        `<rect x="${W - 150}" y="${30 + i * 16}" width="10" height="10" fill="${s.color}"/><text x="${W - 135}" y="${39 + i * 16}" font-size="11">${s.name}</text>`,
    )
    .join("");
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif">
<rect width="100%" height="100%" fill="#fff"/>
${panel(0, "transfers_per_s", maxTps, "transfers/s (uniform)")}
${panel(W / 2, "p99_ms", maxP99, "p99 latency ms (uniform)")}
${legend}
</svg>
`;
}
