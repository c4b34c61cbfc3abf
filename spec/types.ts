import type { ValueExpr } from './expression-ast';

export const ARTIFACT_KINDS = ['dataset', 'tokenizer', 'checkpoint', 'model', 'report', 'run-report'] as const;
export type ArtifactKind = (typeof ARTIFACT_KINDS)[number];

/** The type of a value an expression can see: a plain value or an artifact of some kind. */
export type ValueType = 'string' | 'number' | 'boolean' | 'object' | 'any' | 'null' | ArtifactKind;

/** What crosses Temporal for an artifact: a reference, never the data. */
export interface ArtifactRef {
  readonly kind: ArtifactKind;
  readonly uri: string;
  readonly sha256: string;
  readonly bytes: number;
  readonly rows?: number;
  readonly schema?: readonly { readonly name: string; readonly type: string }[];
  readonly meta?: Readonly<Record<string, unknown>>;
}

export const PARAM_TYPES = ['string', 'integer', 'number', 'boolean'] as const;
export type ParamType = (typeof PARAM_TYPES)[number];

export interface ParamSpec {
  readonly type: ParamType;
  readonly default?: string | number | boolean;
  readonly description?: string;
  readonly enum?: readonly (string | number)[];
  readonly minimum?: number;
  readonly maximum?: number;
}

export interface RetrySpec {
  readonly max_attempts?: number;
  readonly initial_interval?: string;
  readonly backoff?: number;
  readonly max_interval?: string;
}

export interface TimeoutSpec {
  readonly start_to_close?: string;
  readonly heartbeat?: string;
  readonly schedule_to_close?: string;
}

export const QUEUES = ['cpu', 'gpu'] as const;
export type Queue = (typeof QUEUES)[number];

export interface StepSpec {
  readonly id: string;
  readonly uses: string;
  readonly description?: string;
  readonly with?: Readonly<Record<string, unknown>>;
  readonly inputs?: Readonly<Record<string, string>>;
  readonly needs?: readonly string[];
  readonly when?: string | boolean;
  readonly queue?: Queue;
  readonly retry?: RetrySpec;
  readonly timeout?: string | TimeoutSpec;
  readonly cache?: boolean;
}

/** A pipeline as written in YAML, after schema validation. */
export interface PipelineSpec {
  readonly name: string;
  readonly description?: string;
  readonly params?: Readonly<Record<string, ParamSpec>>;
  readonly steps: readonly StepSpec[];
}

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
