import { outOfScopeSummary, rejectionCurveCells, scoredLabels, type MetricsReport } from '../ml/metrics/metrics-report';
import { entities } from '../ml/metrics/entity-metrics';
import type { TaggedExample } from '../ml/tasks/task';
import { lowerIsBetter, validatedMetrics } from '../core/metrics';
import type { LineageNode } from '../store/lineage';
import { droppedSummary } from '../store/row-history';
import { formatDuration } from '../workflows/progress';
import { epochCells } from '../workflows/training-progress';
import type { RunReport, TrainingSection } from './run-report';
import { barChart, escapeHtml as h, heatMap, lineChart } from './svg-charts';

/** The most frequent confusions listed beside the heat map. */
const TOP_CONFUSIONS = 20;

const f4 = (x: number | undefined) => (x === undefined ? '' : x.toFixed(4));

/**
 * A run report as one self-contained HTML page: no script, style sheet, font or image is fetched
 * (a content security policy forbids it), so the file can be mailed, archived and opened offline.
 */
export function renderRunReportHtml(report: RunReport): string {
  const { progress } = report;
  const title = `${progress.pipeline} · ${report.workflowId}`;
  const body = [
    `<h1>${h(progress.pipeline)} <span class="status ${progress.status}">${h(progress.status)}</span></h1>`,
    `<p class="meta">run <code>${h(report.workflowId)}</code> · started ${h(new Date(progress.startedAt).toISOString())}` +
      `${progress.endedAt ? ` · took ${formatDuration(progress.startedAt, progress.endedAt, progress.endedAt)}` : ''}</p>`,
    progress.error ? `<p class="error">${h(progress.error)}</p>` : '',
    paramsSection(progress.params),
    stepsSection(report),
    ...report.trainings.map(trainingSection),
    ...report.evaluations.map((e, i) => evaluationSection(`${e.step} · ${e.output}`, e.report, `confusion-${i}`)),
    deploySection(report),
    lineageSection(report),
  ];
  return [
    '<!doctype html>',
    '<html lang="en"><head><meta charset="utf-8">',
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'">`,
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${h(title)}</title><style>${STYLE}</style></head>`,
    `<body>${body.filter(Boolean).join('\n')}<script>${ZOOM_SCRIPT}</script></body></html>`,
  ].join('\n');
}

function table(header: readonly string[], rows: readonly (readonly string[])[], className = ''): string {
  return (
    `<table class="${className}"><thead><tr>${header.map((c) => `<th>${h(c)}</th>`).join('')}</tr></thead><tbody>` +
    rows.map((r) => `<tr>${r.map((c) => `<td>${c}</td>`).join('')}</tr>`).join('') +
    '</tbody></table>'
  );
}

function paramsSection(params: Readonly<Record<string, unknown>>): string {
  const entries = Object.entries(params);
  if (entries.length === 0) return '';
  return `<h2>Parameters</h2>${table(
    ['param', 'value'],
    entries.map(([k, v]) => [`<code>${h(k)}</code>`, h(JSON.stringify(v))]),
  )}`;
}

function stepsSection(report: RunReport): string {
  return `<h2>Steps</h2>${table(
    ['step', 'uses', 'status', 'time', 'summary'],
    report.progress.steps.map((s) => [
      `<code>${h(s.id)}</code>`,
      h(s.uses),
      `<span class="status ${s.status}">${h(s.status)}</span>`,
      h(formatDuration(s.startedAt, s.endedAt, s.endedAt ?? s.startedAt ?? 0)),
      h(s.error ?? s.summary ?? ''),
    ]),
    'steps',
  )}`;
}

function trainingSection({ progress, learningRate }: TrainingSection): string {
  const epochs = progress.history;
  const marks = epochs.map((e) => ({ x: e.step, label: `end of epoch ${e.epoch}` }));
  const loss = lineChart({
    title: 'loss per epoch',
    xLabel: 'epoch',
    wholeX: true,
    series: [
      { name: 'train loss', points: epochs.map((e) => [e.epoch, e.trainLoss]) },
      { name: 'validation loss', points: epochs.map((e) => [e.epoch, e.validation.loss ?? Number.NaN]) },
    ],
  });
  const others = progress.metrics.filter((m) => m !== 'loss');
  const scores = lineChart({
    title: `validation metrics per epoch (best by ${progress.monitor}${lowerIsBetter(progress.monitor) ? ', lower is better' : ''})`,
    xLabel: 'epoch',
    wholeX: true,
    series: others.map((m) => ({ name: m, points: epochs.map((e) => [e.epoch, e.validation[m] ?? Number.NaN]) })),
  });
  const rate = lineChart({
    title: 'learning-rate schedule',
    xLabel: 'optimizer step (guides: ends of epochs)',
    wholeX: true,
    series: [{ name: 'learning rate', points: learningRate }],
    marks,
  });
  const state = progress.stopReason ? `${progress.status}: ${progress.stopReason}` : progress.status;
  const { header, rows } = epochCells(progress);
  return [
    `<h2>Training <code>${h(progress.step)}</code></h2>`,
    `<p>${h(state)}, ${epochs.length}/${progress.epochs} epochs${progress.backend ? `, backend ${h(progress.backend)}` : ''}.</p>`,
    `<div class="charts">${loss}${scores}${rate}</div>`,
    table(
      header,
      rows.map((row) => row.map(h)),
      'numbers',
    ),
  ].join('\n');
}

function evaluationSection(title: string, report: MetricsReport, id: string): string {
  const names = validatedMetrics(report.task).filter((name) => report.metrics[name] !== undefined);
  const parts = [
    `<h2>Evaluation <code>${h(title)}</code></h2>`,
    `<p>${h(report.task)} model <code>${h(report.model.sha256.slice(0, 12))}</code> (at step ${report.model.step}) on ${report.dataset.rows} rows, ${h(report.backend)}.</p>`,
    report.upstream?.dropped.length
      ? `<p class="note">${h(droppedSummary(report.upstream.dropped))}: ${report.upstream.chain
          .map((d) => `${h(d.step ?? d.activity ?? d.sha256.slice(0, 12))} ${d.rows ?? '?'}`)
          .join(' → ')} rows.</p>`
      : '',
    `<div class="scores">${names.map((n) => `<div class="score"><span>${h(n)}</span><b>${f4(report.metrics[n])}</b></div>`).join('')}</div>`,
  ];
  if (report.out_of_scope) {
    const { header, rows } = rejectionCurveCells(report.out_of_scope);
    parts.push(
      `<p>${h(outOfScopeSummary(report.out_of_scope))}.</p>`,
      '<h3>Rejection thresholds (* the one used)</h3>',
      table(
        header,
        rows.map((row) => row.map(h)),
        'numbers',
      ),
    );
  }
  if (report.counts)
    parts.push(
      `<p>${Object.entries(report.counts)
        .map(([name, n]) => `${h(name.replaceAll('_', ' '))} ${n}`)
        .join(', ')}</p>`,
    );
  if (report.thresholds.length > 0)
    parts.push(
      '<h3>Thresholds</h3>',
      table(
        ['', 'condition', 'measured'],
        report.thresholds.map((t) => [t.passed ? '✔' : '✘', `<code>${h(t.condition)}</code>`, f4(t.value)]),
        'thresholds',
      ),
    );
  if (report.per_class.length > 0) {
    const kind = report.task === 'token_classification' ? 'entity type' : 'class';
    const sorted = [...report.per_class].sort((a, b) => a.f1 - b.f1 || a.label.localeCompare(b.label));
    parts.push(
      `<h3>F1 per ${kind}, weakest first</h3>`,
      barChart(
        `F1 per ${kind}`,
        sorted.map((c) => ({
          label: c.label,
          value: c.f1,
          detail: `precision ${c.precision.toFixed(4)}, recall ${c.recall.toFixed(4)}, support ${c.support}`,
        })),
      ),
    );
  }
  if (report.confusion) parts.push(confusionSection(scoredLabels(report), report.confusion, id));
  if (report.mistakes?.length)
    parts.push(
      '<h3>Most confident mistakes</h3>',
      table(
        ['text', 'gold', 'predicted', 'probability'],
        report.mistakes.map((m) => [h(m.text), h(m.actual), h(m.predicted), m.probability.toFixed(3)]),
        'mistakes',
      ),
    );
  if (report.tagged?.length)
    parts.push(
      '<h3>Sentences with wrong tags (first rows): gold above, predicted below</h3>',
      ...report.tagged.map(taggedExample),
    );
  if (report.examples?.length)
    parts.push(
      '<h3>Generated replies (first rows)</h3>',
      table(
        ['source', 'target', 'generated'],
        report.examples.map((e) => [e.source.map(h).join('<br>'), h(e.target), h(e.generated)]),
      ),
    );
  if (report.groups)
    parts.push(
      `<h3>Per ${h(report.groups.column)}</h3>`,
      table(
        [report.groups.column, 'rows', ...names],
        report.groups.scores.map((g) => [h(g.group), String(g.rows), ...names.map((n) => f4(g.metrics[n]))]),
        'numbers',
      ),
    );
  return parts.join('\n');
}

function confusionSection(labels: readonly string[], confusion: readonly (readonly number[])[], id: string): string {
  const top = confusion
    .flatMap((row, actual) => row.map((count, predicted) => ({ actual, predicted, count })))
    .filter((c) => c.actual !== c.predicted && c.count > 0)
    .sort((a, b) => b.count - a.count || a.actual - b.actual || a.predicted - b.predicted)
    .slice(0, TOP_CONFUSIONS);
  return [
    '<h3>Confusion matrix</h3>',
    '<p>Rows: actual, columns: predicted, in label order; blue: right, red: wrong, darker: a larger share of the row. Hover a cell for its count.</p>',
    `<label class="zoom">zoom <input type="range" min="1" max="6" step="0.5" value="1" data-zoom="${id}"></label>`,
    `<div class="zoomable" id="${id}">${heatMap('confusion matrix', labels, confusion)}</div>`,
    top.length > 0
      ? `<h3>Most frequent confusions</h3>${table(
          ['actual', 'predicted', 'count'],
          top.map((c) => [h(labels[c.actual]!), h(labels[c.predicted]!), String(c.count)]),
          'confusions',
        )}`
      : '',
  ].join('\n');
}

/** A sentence twice, its gold and its predicted entities marked. */
function taggedExample(example: TaggedExample): string {
  const line = (tags: readonly string[], which: string) => {
    const spans = entities([tags]);
    const out: string[] = [];
    let w = 0;
    for (const span of spans) {
      while (w < span.start) out.push(h(example.words[w++]!));
      out.push(
        `<mark class="entity" title="${h(span.type)}">${example.words
          .slice(span.start, span.end + 1)
          .map(h)
          .join(' ')}<sub>${h(span.type)}</sub></mark>`,
      );
      w = span.end + 1;
    }
    while (w < example.words.length) out.push(h(example.words[w++]!));
    return `<div class="tagged ${which}"><span class="which">${which}</span> ${out.join(' ')}</div>`;
  };
  return `<div class="sentence">${line(example.actual, 'gold')}${line(example.predicted, 'predicted')}</div>`;
}

function deploySection(report: RunReport): string {
  if (report.deploys.length === 0) return '';
  return `<h2>Deploy</h2>${table(
    ['step', 'deployed', 'version', 'challenger', 'champion', 'decision'],
    report.deploys.map((s) => {
      const o = s.outputs!;
      return [
        `<code>${h(s.id)}</code>`,
        o.deployed ? '✔ yes' : '✘ no',
        o.deployed ? String(o.version) : '',
        typeof o.challenger === 'number' ? f4(o.challenger) : '',
        typeof o.champion === 'number' && o.champion >= 0 ? f4(o.champion) : 'none',
        h(typeof o.decision === 'string' ? o.decision : ''),
      ];
    }),
  )}`;
}

function lineageSection(report: RunReport): string {
  if (report.lineage.length === 0) return '';
  const node = (n: LineageNode): string => {
    const a = n.artifact;
    const what = a
      ? `${h(a.kind)} <code>${h(n.sha256.slice(0, 12))}</code>${a.provenance.step ? ` from step <code>${h(a.provenance.step)}</code>` : ''}` +
        `${a.rows !== undefined ? `, ${a.rows} rows` : ''}${a.provenance.sources?.length ? `, read from ${a.provenance.sources.map((s) => `<code>${h(s)}</code>`).join(', ')}` : ''}`
      : `<code>${h(n.sha256.slice(0, 12))}</code> (no longer stored)`;
    const children = n.parents.length > 0 ? `<ul>${n.parents.map((p) => `<li>${node(p)}</li>`).join('')}</ul>` : '';
    return `${what}${n.repeated ? ' (see above)' : ''}${children}`;
  };
  return `<h2>Lineage</h2>${report.lineage
    .map((l) => `<p>model of <code>${h(l.step)}</code>:</p><ul class="lineage"><li>${node(l.model)}</li></ul>`)
    .join('\n')}`;
}

const STYLE = `
body { font: 14px/1.45 system-ui, sans-serif; margin: 24px auto; max-width: 1100px; padding: 0 16px; color: #222; }
h1 { font-size: 22px; } h2 { font-size: 18px; margin-top: 32px; border-bottom: 1px solid #ddd; } h3 { font-size: 15px; }
code { font: 12px ui-monospace, monospace; background: #f4f4f4; padding: 0 3px; }
table { border-collapse: collapse; margin: 8px 0; } th, td { border: 1px solid #ddd; padding: 3px 8px; text-align: left; vertical-align: top; }
table.numbers td:not(:first-child) { text-align: right; font-variant-numeric: tabular-nums; }
.status { font-size: 12px; padding: 1px 6px; border-radius: 8px; background: #eee; }
.status.succeeded, .status.cached { background: #d9f2d9; } .status.failed { background: #f8d0d0; } .status.cancelled { background: #f3e2c0; }
.error { color: #a00; }
.note { color: #8a5a00; }
.scores { display: flex; flex-wrap: wrap; gap: 8px; } .score { border: 1px solid #ddd; border-radius: 6px; padding: 6px 10px; }
.score span { display: block; font-size: 12px; color: #666; } .score b { font-size: 18px; }
.charts { display: flex; flex-wrap: wrap; gap: 12px; }
svg.chart { background: #fff; font: 11px system-ui, sans-serif; max-width: 100%; height: auto; }
svg .title { font-weight: 600; font-size: 13px; } svg .plot { fill: #fafafa; stroke: #ccc; }
svg .grid { stroke: #e6e6e6; } svg .mark { stroke: #bbb; stroke-dasharray: 3 3; }
svg .series { fill: none; stroke-width: 2; } svg .tick, svg .legend, svg .axis { fill: #444; }
.zoomable { overflow: auto; max-height: 820px; border: 1px solid #eee; }
.zoomable svg.heat-map { max-width: none; }
mark.entity { background: #ffe9a8; padding: 0 2px; border-radius: 3px; } mark.entity sub { font-size: 10px; color: #775; margin-left: 2px; }
.sentence { margin: 6px 0; padding: 4px 8px; border-left: 3px solid #ddd; } .which { font-size: 11px; color: #888; display: inline-block; width: 64px; }
.tagged.predicted mark.entity { background: #cfe3ff; }
ul.lineage, ul.lineage ul { margin: 2px 0; padding-left: 18px; }
`;

/** The confusion matrix's zoom slider; the page works without it. */
const ZOOM_SCRIPT = `
for (const input of document.querySelectorAll('input[data-zoom]')) {
  const svg = document.getElementById(input.dataset.zoom).querySelector('svg');
  const width = svg.width.baseVal.value, height = svg.height.baseVal.value;
  input.addEventListener('input', () => {
    svg.setAttribute('width', String(width * Number(input.value)));
    svg.setAttribute('height', String(height * Number(input.value)));
  });
}
`;
