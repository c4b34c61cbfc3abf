import { asRecord } from './as-record';
import type { DiagnosticCode } from './diagnostics';
import type { SourcePath } from './source';

/** Reports a problem at a place in the pipeline file; `key` points at the key rather than its value. */
export type Reporter = (code: DiagnosticCode, path: SourcePath, message: string, key?: boolean) => void;

/** What the semantic checks read of the raw steps, by step id. */
export interface StepLookup {
  /** The step as written, if it is a mapping. */
  readonly raw: (id: string) => Record<string, unknown> | undefined;
  /** Its `uses:`. */
  readonly uses: (id: string) => unknown;
  /** Its `with:`, empty when it has none. */
  readonly withOf: (id: string) => Record<string, unknown>;
  /** The source path of a place inside the step. */
  readonly at: (id: string, ...rest: (string | number)[]) => SourcePath;
}

export function stepLookup(steps: readonly unknown[], stepIndex: ReadonlyMap<string, number>): StepLookup {
  const raw = (id: string) => asRecord(steps[stepIndex.get(id) ?? -1]);
  return {
    raw,
    uses: (id) => raw(id)?.uses,
    withOf: (id) => asRecord(raw(id)?.with) ?? {},
    at: (id, ...rest) => ['steps', stepIndex.get(id)!, ...rest],
  };
}
