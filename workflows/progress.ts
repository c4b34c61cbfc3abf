import type { ArtifactRef } from '../core/artifacts';
import { codeBlock, textTable } from './text-table';

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

/** Each status's mark in step tables, in the terminal and in the Web UI. */
export const STATUS_MARKS: Record<StepStatus, string> = {
  pending: '·',
  running: '▶',
  succeeded: '✔',
  cached: '♻',
  skipped: '↷',
  failed: '✘',
  cancelled: '■',
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

/** The step table as text lines: a header, then per step its mark and id, activity, status, time and result. */
export function stepTable(progress: PipelineProgress, nowMs: number): string[] {
  return textTable(
    ['  step', 'activity', 'status', 'time', 'result'],
    progress.steps.map((s) => [
      `${STATUS_MARKS[s.status]} ${s.id}`,
      s.uses,
      s.status,
      formatDuration(s.startedAt, s.endedAt, nowMs),
      oneLine(s.error ?? s.summary ?? ''),
    ]),
  );
}

/**
 * The step table shown in the Temporal Web UI (`setCurrentDetails`): a markdown headline over the
 * text table in a code block (the UI's markdown view draws tables without cell spacing).
 */
export function progressMarkdown(progress: PipelineProgress, nowMs: number): string {
  const title = progress.runName ? `${progress.pipeline} · ${progress.runName}` : progress.pipeline;
  const done = progress.steps.filter((s) => isFinished(s.status)).length;
  const lines = [
    `**${escapeMarkdown(title)}** — ${progress.status}, ${done} of ${progress.steps.length} steps finished`,
    '',
    codeBlock(stepTable(progress, nowMs)),
  ];
  if (progress.error) lines.push('', `**Error:** ${escapeMarkdown(progress.error.replace(/\n/g, ' '))}`);
  return lines.join('\n');
}

/** Text that markdown shows as it is: its punctuation escaped. */
function escapeMarkdown(text: string): string {
  return text.replace(/[\\`*_{}[\]()<>#+|!~-]/g, '\\$&');
}

function oneLine(text: string): string {
  const first = text.split('\n')[0] ?? '';
  return first.length > 100 ? `${first.slice(0, 99)}…` : first;
}
