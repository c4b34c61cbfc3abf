interface HistogramSeries {
  counts: number[];
  sum: number;
  count: number;
}

interface Histogram {
  readonly help: string;
  readonly buckets: readonly number[];
  readonly series: Map<string, HistogramSeries>;
}

/** Counters, gauges and histograms rendered in the Prometheus text format. */
export class Metrics {
  private readonly counters = new Map<string, { help: string; values: Map<string, number> }>();
  private readonly gauges = new Map<string, { help: string; values: Map<string, number> }>();
  private readonly histograms = new Map<string, Histogram>();

  counter(name: string, help: string, labels: Record<string, string>, by = 1): void {
    const metric = this.counters.get(name) ?? { help, values: new Map() };
    this.counters.set(name, metric);
    const key = labelText(labels);
    metric.values.set(key, (metric.values.get(key) ?? 0) + by);
  }

  gauge(name: string, help: string, labels: Record<string, string>, value: number): void {
    const metric = this.gauges.get(name) ?? { help, values: new Map() };
    this.gauges.set(name, metric);
    metric.values.set(labelText(labels), value);
  }

  observe(name: string, help: string, buckets: readonly number[], labels: Record<string, string>, value: number): void {
    const metric: Histogram = this.histograms.get(name) ?? { help, buckets, series: new Map() };
    this.histograms.set(name, metric);
    const key = labelText(labels);
    const series: HistogramSeries = metric.series.get(key) ?? { counts: buckets.map(() => 0), sum: 0, count: 0 };
    metric.series.set(key, series);
    buckets.forEach((bound, i) => {
      if (value <= bound) series.counts[i]! += 1;
    });
    series.sum += value;
    series.count += 1;
  }

  render(): string {
    const lines: string[] = [];
    for (const [name, m] of this.counters) {
      lines.push(`# HELP ${name} ${m.help}`, `# TYPE ${name} counter`);
      for (const [labels, value] of m.values) lines.push(`${name}${labels} ${value}`);
    }
    for (const [name, m] of this.gauges) {
      lines.push(`# HELP ${name} ${m.help}`, `# TYPE ${name} gauge`);
      for (const [labels, value] of m.values) lines.push(`${name}${labels} ${value}`);
    }
    for (const [name, m] of this.histograms) {
      lines.push(`# HELP ${name} ${m.help}`, `# TYPE ${name} histogram`);
      for (const [labels, s] of m.series) {
        const inner = labels.slice(1, -1);
        const withLe = (le: string) => `{${inner}${inner ? ',' : ''}le="${le}"}`;
        m.buckets.forEach((bound, i) => lines.push(`${name}_bucket${withLe(String(bound))} ${s.counts[i]}`));
        lines.push(
          `${name}_bucket${withLe('+Inf')} ${s.count}`,
          `${name}_sum${labels} ${s.sum}`,
          `${name}_count${labels} ${s.count}`,
        );
      }
    }
    return lines.join('\n') + '\n';
  }
}

function labelText(labels: Record<string, string>): string {
  const parts = Object.entries(labels).map(
    ([k, v]) => `${k}="${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`,
  );
  return parts.length === 0 ? '' : `{${parts.join(',')}}`;
}
