import { failureClass } from '../../core/failures';
/** A freeze pattern that matches no parameter of the model; the message lists the model's groups. */
export class FreezeError extends failureClass('FreezeError') {}

/**
 * The group a parameter belongs to, as `freeze` patterns name them: `embeddings`, `layers.<n>`,
 * `pooler`, `final_norm` or `head`.
 */
export function parameterGroup(name: string): string {
  const layer = /^layer(\d+)\//.exec(name);
  if (layer) return `layers.${layer[1]}`;
  if (name.startsWith('embedding/')) return 'embeddings';
  return name.split('/')[0]!;
}

/** Groups of a pattern: `embeddings`, `pooler`, `layers.3`, or the inclusive range `layers.0-3`. */
function patternGroups(pattern: string): string[] {
  const range = /^layers\.(\d+)-(\d+)$/.exec(pattern);
  if (!range) return [pattern];
  const [from, to] = [Number(range[1]), Number(range[2])];
  return Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => `layers.${from + i}`);
}

/**
 * The parameters `patterns` freeze, out of the model's `names`. Every pattern must match at least
 * one parameter (a whole range must lie inside the model), so a typo or a layer the model lacks is
 * an error rather than a silently larger training run.
 */
export function frozenParameters(names: readonly string[], patterns: readonly string[]): Set<string> {
  const groups = new Map<string, string[]>();
  for (const name of names) {
    const group = parameterGroup(name);
    groups.set(group, [...(groups.get(group) ?? []), name]);
  }
  const frozen = new Set<string>();
  for (const pattern of patterns) {
    const wanted = patternGroups(pattern);
    const missing = wanted.filter((g) => !groups.has(g));
    if (wanted.length === 0 || missing.length > 0)
      throw new FreezeError(
        `freeze pattern "${pattern}" matches no parameter${missing.length > 0 ? ` (no ${missing.join(', ')})` : ''}; the model's groups are ${describeGroups([...groups.keys()])}`,
      );
    for (const group of wanted) groups.get(group)!.forEach((name) => frozen.add(name));
  }
  return frozen;
}

/** Group names with the layers folded into one range: `embeddings, layers.0-5, pooler, head`. */
function describeGroups(groups: readonly string[]): string {
  const layers = groups.filter((g) => g.startsWith('layers.')).map((g) => Number(g.slice(7)));
  const others = groups.filter((g) => !g.startsWith('layers.'));
  const range = layers.length > 0 ? [`layers.${Math.min(...layers)}-${Math.max(...layers)}`] : [];
  return [...others.slice(0, 1), ...range, ...others.slice(1)].join(', ');
}

/** How the learning rate varies across parameter groups. */
export interface LearningRateShape {
  /** The encoder's number of blocks. */
  readonly layers: number;
  /** Layer-wise decay: each block down from the top trains at this fraction of the one above; 1: none. */
  readonly layerDecay: number;
  /** The head's rate as a multiple of the base rate. */
  readonly headScale: number;
}

/**
 * Each parameter's learning rate as a multiple of the base rate. With layer-wise decay d over L
 * blocks, block l trains at d^(L − l) (the top block at d), the embeddings at d^(L + 1), and the
 * pooler and final norm at 1; the head at `headScale`.
 */
export function learningRateScales(names: readonly string[], shape: LearningRateShape): Map<string, number> {
  const scales = new Map<string, number>();
  for (const name of names) {
    const group = parameterGroup(name);
    const scale =
      group === 'head'
        ? shape.headScale
        : group === 'embeddings'
          ? shape.layerDecay ** (shape.layers + 1)
          : group.startsWith('layers.')
            ? shape.layerDecay ** (shape.layers - Number(group.slice(7)))
            : 1;
    scales.set(name, scale);
  }
  return scales;
}
