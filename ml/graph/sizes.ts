import { failureClass } from '../../core/failures';
/**
 * A tensor dimension as the graph builder knows it: a number, or a polynomial in named run-time
 * sizes (such as batch and length) with whole coefficients — `batch·length`, `length − 1`.
 * Symbolic sizes let a graph serve batches of any shape while the builder still knows, for every
 * op, which dimensions are equal, which is what the gradient of a broadcasting op needs to know
 * where to sum.
 */
export type Size = number | SymbolicSize;

export type Shape = readonly Size[];

/** One term: coefficient × Π name^power. */
interface Term {
  readonly coefficient: number;
  readonly factors: ReadonlyMap<string, number>;
}

function monomialKey(factors: ReadonlyMap<string, number>): string {
  return [...factors]
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([name, power]) => (power === 1 ? name : `${name}^${power}`))
    .join('·');
}

/** A sum of terms, at least one of which names a run-time size. */
export class SymbolicSize {
  private constructor(readonly terms: readonly Term[]) {}

  static named(name: string): SymbolicSize {
    return new SymbolicSize([{ coefficient: 1, factors: new Map([[name, 1]]) }]);
  }

  /** The single name this size stands for, when it is exactly one named size. */
  get name(): string | undefined {
    const [term, ...rest] = this.terms;
    if (!term || rest.length > 0 || term.coefficient !== 1 || term.factors.size !== 1) return undefined;
    const [[name, power]] = [...term.factors] as [[string, number]];
    return power === 1 ? name : undefined;
  }

  /** A canonical spelling: equal sizes have equal keys. */
  get key(): string {
    return this.terms
      .map((t) => {
        const m = monomialKey(t.factors);
        return m === '' ? String(t.coefficient) : t.coefficient === 1 ? m : `${t.coefficient}·${m}`;
      })
      .join(' + ');
  }

  /** The size made of these terms (like terms combined, zero terms dropped): a number if none is symbolic. */
  static of(terms: readonly Term[]): Size {
    const combined = new Map<string, Term>();
    for (const term of terms) {
      const factors = new Map([...term.factors].filter(([, power]) => power !== 0));
      const key = monomialKey(factors);
      const seen = combined.get(key);
      combined.set(key, { coefficient: (seen?.coefficient ?? 0) + term.coefficient, factors });
    }
    const kept = [...combined.entries()]
      .filter(([, t]) => t.coefficient !== 0)
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([, t]) => t);
    if (kept.every((t) => t.factors.size === 0)) return kept.reduce((a, t) => a + t.coefficient, 0);
    return new SymbolicSize(kept);
  }
}

function termsOf(size: Size): readonly Term[] {
  return typeof size === 'number' ? [{ coefficient: size, factors: new Map() }] : size.terms;
}

export function sizeKey(size: Size): string {
  return typeof size === 'number' ? String(size) : size.key;
}

export function sameSize(a: Size, b: Size): boolean {
  return sizeKey(a) === sizeKey(b);
}

export function addSizes(a: Size, b: Size): Size {
  return SymbolicSize.of([...termsOf(a), ...termsOf(b)]);
}

export function subtractSizes(a: Size, b: Size): Size {
  return addSizes(a, multiplySizes(b, -1));
}

export function multiplySizes(a: Size, b: Size): Size {
  const terms: Term[] = [];
  for (const x of termsOf(a))
    for (const y of termsOf(b)) {
      const factors = new Map(x.factors);
      for (const [name, power] of y.factors) factors.set(name, (factors.get(name) ?? 0) + power);
      terms.push({ coefficient: x.coefficient * y.coefficient, factors });
    }
  return SymbolicSize.of(terms);
}

/** a / b, which must divide exactly, b being a single term (or equal to a). */
export function divideSizes(a: Size, b: Size): Size {
  if (sameSize(a, b)) return 1;
  const [divisor, ...more] = termsOf(b);
  const fail = () => new GraphShapeError(`${sizeKey(a)} is not divisible by ${sizeKey(b)}`);
  if (!divisor || more.length > 0 || divisor.coefficient === 0) throw fail();
  return SymbolicSize.of(
    termsOf(a).map((t) => {
      const factors = new Map(t.factors);
      for (const [name, power] of divisor.factors) {
        const have = factors.get(name) ?? 0;
        if (have < power) throw fail();
        factors.set(name, have - power);
      }
      if (t.coefficient % divisor.coefficient !== 0) throw fail();
      return { coefficient: t.coefficient / divisor.coefficient, factors };
    }),
  );
}

export function shapeSize(shape: Shape): Size {
  return shape.reduce<Size>((total, size) => multiplySizes(total, size), 1);
}

export function shapeKey(shape: Shape): string {
  return `[${shape.map(sizeKey).join(', ')}]`;
}

/**
 * The shape of an element-wise op on inputs of these shapes (NumPy broadcasting). A symbolic size
 * broadcasts only against 1 or an equal size: one that might be 1 at run time is refused, since
 * the gradient would not know whether to sum over it.
 */
export function broadcastShapes(...shapes: readonly Shape[]): Shape {
  const rank = Math.max(...shapes.map((s) => s.length));
  const out: Size[] = [];
  for (let i = 0; i < rank; i++) {
    let size: Size = 1;
    for (const shape of shapes) {
      const d = shape[shape.length - rank + i] ?? 1;
      if (d === 1) continue;
      if (size === 1) size = d;
      else if (!sameSize(size, d))
        throw new GraphShapeError(`shapes ${shapes.map(shapeKey).join(' and ')} do not broadcast`);
    }
    out.push(size);
  }
  return out;
}

/** Raised when a graph is built with shapes that do not fit an op. */
export class GraphShapeError extends failureClass('GraphShapeError') {}
