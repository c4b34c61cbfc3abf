import { formatDuration, isFinished, STATUS_MARKS, stepTable, type PipelineProgress } from '../workflows/progress';

/** Prints a run's progress: a redrawn table on a terminal, one line per change elsewhere, or JSON lines. */
export class ProgressPrinter {
  private drawnLines = 0;
  /** Per step, what was last printed: its status, and its summary while it runs (training reports each epoch). */
  private readonly lastShown = new Map<string, string>();
  private lastRunStatus: string | undefined;

  constructor(
    private readonly out: NodeJS.WriteStream,
    private readonly mode: 'tty' | 'lines' | 'json',
  ) {}

  static for(out: NodeJS.WriteStream, json: boolean): ProgressPrinter {
    return new ProgressPrinter(out, json ? 'json' : out.isTTY ? 'tty' : 'lines');
  }

  update(progress: PipelineProgress, nowMs = Date.now()): void {
    if (this.mode === 'tty') this.redraw(progress, nowMs);
    else this.printChanges(progress);
  }

  private redraw(progress: PipelineProgress, nowMs: number): void {
    const lines = table(progress, nowMs);
    if (this.drawnLines > 0) this.out.write(`\x1b[${this.drawnLines}A\x1b[0J`);
    this.out.write(lines.join('\n') + '\n');
    this.drawnLines = lines.length;
  }

  private printChanges(progress: PipelineProgress): void {
    for (const step of progress.steps) {
      const shown = step.status === 'running' ? `${step.status}|${step.summary ?? ''}` : step.status;
      if (this.lastShown.get(step.id) === shown) continue;
      this.lastShown.set(step.id, shown);
      if (this.mode === 'json') {
        this.out.write(JSON.stringify({ event: 'step', ...step }) + '\n');
      } else if (step.status !== 'pending') {
        const detail = step.error ?? step.summary;
        const time =
          isFinished(step.status) && step.startedAt !== undefined
            ? ` ${formatDuration(step.startedAt, step.endedAt, Date.now())}`
            : '';
        this.out.write(
          `${STATUS_MARKS[step.status]} ${step.id} (${step.uses}) ${step.status}${time}${detail ? `: ${detail}` : ''}\n`,
        );
      }
    }
    if (this.mode === 'json' && progress.status !== this.lastRunStatus) {
      this.lastRunStatus = progress.status;
      this.out.write(
        JSON.stringify({
          event: 'run',
          status: progress.status,
          pipeline: progress.pipeline,
          ...(progress.error && { error: progress.error }),
        }) + '\n',
      );
    }
  }
}

/** The step table as text lines under the run's status, for terminals and `pipewright status`. */
export function table(progress: PipelineProgress, nowMs: number): string[] {
  const done = progress.steps.filter((s) => isFinished(s.status)).length;
  return [
    `${progress.pipeline}: ${progress.status} (${done}/${progress.steps.length} steps)`,
    ...stepTable(progress, nowMs),
  ];
}
