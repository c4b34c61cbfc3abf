import type { Edge, GraphNode } from './graph-def';
import { BROADCASTING_RULES, GRADIENT_RULES } from './gradient-rules';
import { sameSize } from './sizes';
import type { GraphOps } from './graph-ops';
import { failureClass } from '../../core/failures';

/** Raised when a graph cannot be differentiated: an op on the way from the inputs to the loss has no gradient rule. */
export class GradientError extends failureClass('GradientError') {}

/**
 * Reverse-mode differentiation of the scalar `y` with respect to each of `xs`, adding the backward
 * pass to the same graph: the nodes between the xs and y are visited from y back, and each op's
 * gradient rule (ml/graph/gradient-rules.ts) turns the gradients of its outputs into those of its
 * inputs; a tensor used several times gets the sum. Only inputs that lead from an x to y are
 * differentiated. Returns undefined for an x that y does not depend on.
 *
 * A gradient may flow back smaller than its tensor but broadcastable to it (a mean's gradient is
 * the same for every element it averaged): element-wise rules take it as it is, and it is
 * broadcast only where an op needs the full shape, which saves a pass over the activations per
 * reduction.
 */
export function gradients(o: GraphOps, y: Edge, xs: readonly Edge[]): (Edge | undefined)[] {
  const g = o.g;
  const forward = [...g.nodes];
  const sources = new Set(xs.map((x) => g.source(x).node.name));
  const live = new Set<string>();
  for (const node of forward)
    if (sources.has(node.name) || node.inputs.some((input) => live.has(g.source(input).node.name))) live.add(node.name);
  const needed = new Set([g.source(y).node.name]);
  for (let i = forward.length - 1; i >= 0; i--) {
    const node = forward[i]!;
    if (needed.has(node.name)) for (const input of node.inputs) needed.add(g.source(input).node.name);
  }
  const onPath = (node: GraphNode) => live.has(node.name) && needed.has(node.name);

  const contributions = new Map<Edge, Edge[]>();
  const contribute = (edge: Edge, grad: Edge) => {
    const { node, index } = g.source(edge);
    const key = index === 0 ? node.name : edge;
    contributions.set(key, [...(contributions.get(key) ?? []), grad]);
  };
  const total = (edge: Edge, exact: boolean): Edge | undefined => {
    const parts = contributions.get(edge);
    if (!parts) return undefined;
    const shape = g.shape(edge);
    const full = (part: Edge) => {
      const s = g.shape(part);
      return s.length === shape.length && s.every((d, i) => sameSize(d, shape[i]!));
    };
    const whole = parts.filter(full);
    let sum = [whole.length > 0 ? o.addN(whole) : undefined, ...parts.filter((part) => !full(part))].reduce<
      Edge | undefined
    >((a, b) => (a === undefined ? b : b === undefined ? a : o.add(a, b)), undefined)!;
    if (exact && !full(sum)) sum = o.broadcastTo(sum, shape);
    return sum;
  };
  contribute(y, o.unary('OnesLike', y));
  for (let i = forward.length - 1; i >= 0; i--) {
    const node = forward[i]!;
    if (!onPath(node) || sources.has(node.name)) continue;
    const outputs = node.outputs.map((_, k) => (k === 0 ? node.name : `${node.name}:${k}`));
    const dys = outputs.map((edge) => total(edge, !BROADCASTING_RULES.has(node.op)));
    if (dys.every((d) => d === undefined)) continue;
    const rule = GRADIENT_RULES[node.op];
    if (!rule) throw new GradientError(`no gradient rule for TensorFlow op ${node.op} (node ${node.name})`);
    const needs = node.inputs.map((input) => onPath(g.source(input).node));
    const dxs = rule(o, node, { dys, outputs, needs });
    node.inputs.forEach((input, k) => {
      const dx = dxs[k];
      if (needs[k] && dx !== undefined) contribute(input, dx);
    });
  }
  return xs.map((x) => total(x, true));
}
