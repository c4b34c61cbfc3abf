import type { ValueExpr } from './expression-ast';

export const QUEUES = ['cpu', 'gpu'] as const;
export type Queue = (typeof QUEUES)[number];

export interface PlanRetry {
  readonly maximumAttempts: number;
  readonly initialIntervalMs: number;
  readonly backoffCoefficient: number;
  readonly maximumIntervalMs: number;
}

export interface PlanTimeouts {
  readonly startToCloseMs: number;
  readonly heartbeatMs?: number;
  readonly scheduleToCloseMs?: number;
}

/** How a plan step's activities run: the queue kind it asks for, its retry policy and timeouts. */
export interface PlanPolicy {
  readonly queue: Queue;
  readonly retry: PlanRetry;
  readonly timeouts: PlanTimeouts;
}

export interface PlanStep {
  readonly id: string;
  readonly uses: string;
  readonly description?: string;
  /** Literal values, or `ValueExpr`s the workflow resolves at run time. */
  readonly with: Readonly<Record<string, unknown>>;
  readonly inputs: Readonly<Record<string, { readonly step: string; readonly output: string }>>;
  /** Every step this one waits for: wired inputs, `needs`, and steps its expressions read. */
  readonly dependsOn: readonly string[];
  readonly when?: ValueExpr;
  readonly queue: Queue;
  readonly retry: PlanRetry;
  readonly timeouts: PlanTimeouts;
  readonly cache: boolean;
  /** A step that runs as an epoch loop: the policies of the loop's other activities, by activity name. */
  readonly loop?: Readonly<Record<string, PlanPolicy>>;
}

/** The compiled, plain-JSON form of a pipeline that the `pipeline` workflow interprets. */
export interface PipelinePlan {
  readonly version: 1;
  readonly name: string;
  readonly description?: string;
  readonly source: { readonly file: string; readonly sha256: string; readonly dir?: string };
  readonly params: Readonly<Record<string, string | number | boolean>>;
  readonly steps: readonly PlanStep[];
  readonly noCache: boolean;
}
