import type { ArtifactRef } from '../spec/types';

export const STEP_STATUSES = ['pending', 'running', 'succeeded', 'cached', 'skipped', 'failed', 'cancelled'] as const;
export type StepStatus = (typeof STEP_STATUSES)[number];

export type RunStatus = 'compiling' | 'running' | 'succeeded' | 'failed' | 'cancelled';

export interface StepProgress {
  readonly id: string;
  readonly uses: string;
  readonly queue: string;
  status: StepStatus;
  startedAt?: number;
  endedAt?: number;
  summary?: string;
  error?: string;
  outputs?: Readonly<Record<string, unknown>>;
}

/** What the `progress` query answers and the CLI renders. */
export interface PipelineProgress {
  pipeline: string;
  runName?: string;
  status: RunStatus;
  params: Readonly<Record<string, unknown>>;
  steps: StepProgress[];
  startedAt: number;
  endedAt?: number;
  error?: string;
  /** The run's HTML report, once written at its end. */
  report?: ArtifactRef;
}

const ICONS: Record<StepStatus, string> = {
  pending: '⏳ pending',
  running: '🔄 running',
  succeeded: '✅ succeeded',
  cached: '♻️ cached',
  skipped: '⏭️ skipped',
  failed: '❌ failed',
  cancelled: '🚫 cancelled',
};

/** True once a step will not change any more. */
export function isFinished(status: StepStatus): boolean {
  return status !== 'pending' && status !== 'running';
}

/** Seconds between two times, or since `start` until `now`, as `12.3s`. */
export function formatDuration(startMs: number | undefined, endMs: number | undefined, nowMs: number): string {
  if (startMs === undefined) return '';
  return `${(((endMs ?? nowMs) - startMs) / 1000).toFixed(1)}s`;
}

/** The step table shown in the Temporal Web UI (`setCurrentDetails`), as markdown. */
export function progressMarkdown(progress: PipelineProgress, nowMs: number): string {
  const done = progress.steps.filter((s) => isFinished(s.status)).length;
  const title = progress.runName ? `${progress.pipeline} · ${progress.runName}` : progress.pipeline;
  const lines = [
    `**${escapeCell(title)}** — ${progress.status}, ${done}/${progress.steps.length} steps finished`,
    '',
    '| step | activity | queue | status | time | result |',
    '|---|---|---|---|---|---|',
    ...progress.steps
      .map((s) =>
        [
          s.id,
          s.uses,
          s.queue,
          ICONS[s.status],
          formatDuration(s.startedAt, s.endedAt, nowMs),
          escapeCell(s.error ?? s.summary ?? ''),
        ].join(' | '),
      )
      .map((row) => `| ${row} |`),
  ];
  if (progress.error) lines.push('', `**Error:** ${escapeCell(progress.error)}`);
  return lines.join('\n');
}

function escapeCell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}
