import type { Queue } from '../core/plan';

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
