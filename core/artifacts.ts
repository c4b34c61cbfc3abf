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
