/** How the learning rate moves over training. */
export interface LrSchedule {
  readonly kind: 'constant' | 'linear' | 'cosine';
  readonly peak: number;
  /** Steps of linear warmup from 0 to `peak`. */
  readonly warmupSteps: number;
  readonly totalSteps: number;
}

/** The learning rate at a step (0-based): warmup, then constant, linear or cosine decay to 0. */
export function learningRate(schedule: LrSchedule, step: number): number {
  if (schedule.warmupSteps > 0 && step < schedule.warmupSteps)
    return (schedule.peak * (step + 1)) / schedule.warmupSteps;
  if (schedule.kind === 'constant') return schedule.peak;
  const decaySteps = Math.max(1, schedule.totalSteps - schedule.warmupSteps);
  const progress = Math.min(1, (step - schedule.warmupSteps) / decaySteps);
  return schedule.kind === 'linear'
    ? schedule.peak * (1 - progress)
    : schedule.peak * 0.5 * (1 + Math.cos(Math.PI * progress));
}
