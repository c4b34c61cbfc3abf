import type { BinaryOp, Expr, Literal, ValueExpr } from '../core/expression-ast';
import { SOURCE_LIMITS } from './source-limits';

/** A syntax error at a character offset inside the expression text. */
export class ExpressionSyntaxError extends Error {
  override name = 'ExpressionSyntaxError';
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(message);
  }
}

type Token =
  | { type: 'num'; value: number; offset: number }
  | { type: 'str'; value: string; offset: number }
  | { type: 'ident'; value: string; offset: number }
  | { type: 'op'; value: string; offset: number }
  | { type: 'end'; offset: number };

const OPERATORS = ['==', '!=', '<=', '>=', '&&', '||', '<', '>', '!', '-', '(', ')', '.'];

function tokenize(text: string, base: number): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const ch = text[i]!;
    if (/\s/.test(ch)) {
      i++;
    } else if (/[0-9]/.test(ch)) {
      const m = /^[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?/.exec(text.slice(i))!;
      tokens.push({ type: 'num', value: Number(m[0]), offset: base + i });
      i += m[0].length;
    } else if (ch === "'" || ch === '"') {
      let j = i + 1;
      let value = '';
      while (j < text.length && text[j] !== ch) {
        if (text[j] === '\\' && j + 1 < text.length) j++;
        value += text[j];
        j++;
      }
      if (j >= text.length) throw new ExpressionSyntaxError('unterminated string', base + i);
      tokens.push({ type: 'str', value, offset: base + i });
      i = j + 1;
    } else if (/[A-Za-z_]/.test(ch)) {
      const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(text.slice(i))!;
      tokens.push({ type: 'ident', value: m[0], offset: base + i });
      i += m[0].length;
    } else {
      const op = OPERATORS.find((o) => text.startsWith(o, i));
      if (!op) {
        const hint = ch === '=' ? " (use '==' to compare)" : ch === '&' || ch === '|' ? " (use '&&' or '||')" : '';
        throw new ExpressionSyntaxError(`unexpected character '${ch}'${hint}`, base + i);
      }
      tokens.push({ type: 'op', value: op, offset: base + i });
      i += op.length;
    }
  }
  tokens.push({ type: 'end', offset: base + text.length });
  return tokens;
}

const KEYWORD_LITERALS = new Map<string, Literal>([
  ['true', true],
  ['false', false],
  ['null', null],
]);

const MAX_DEPTH = SOURCE_LIMITS.maxExpressionDepth;

class Parser {
  private index = 0;
  /** How deep the parse is inside parentheses and prefix operators. */
  private nesting = 0;
  constructor(private readonly tokens: Token[]) {}

  parse(): Expr {
    const expr = this.or();
    const next = this.peek();
    if (next.type !== 'end') throw new ExpressionSyntaxError(`unexpected ${describeToken(next)}`, next.offset);
    return expr;
  }

  /** `node` over `children`, refused when it makes the tree deeper than checking may recurse. */
  private deeper(node: Expr, ...children: Expr[]): Expr {
    const depth = Math.max(...children.map(depthOf)) + 1;
    if (depth > MAX_DEPTH)
      throw new ExpressionSyntaxError(
        `the expression nests more than ${MAX_DEPTH} operators; split it (e.g. into params, or when: on several steps)`,
        node.offset,
      );
    DEPTHS.set(node, depth);
    return node;
  }

  /** Parses inside parentheses or after a prefix operator, one level deeper; refused beyond the limit. */
  private nested<T>(offset: number, parse: () => T): T {
    if (++this.nesting > MAX_DEPTH)
      throw new ExpressionSyntaxError(`the expression nests deeper than ${MAX_DEPTH} levels; simplify it`, offset);
    try {
      return parse();
    } finally {
      this.nesting--;
    }
  }

  private peek(): Token {
    return this.tokens[this.index]!;
  }

  private takeOp(...ops: string[]): Extract<Token, { type: 'op' }> | null {
    const token = this.peek();
    if (token.type === 'op' && ops.includes(token.value)) {
      this.index++;
      return token;
    }
    return null;
  }

  private or(): Expr {
    let left = this.and();
    for (let op = this.takeOp('||'); op; op = this.takeOp('||')) {
      const right = this.and();
      left = this.deeper({ kind: 'binary', op: '||', left, right, offset: op.offset }, left, right);
    }
    return left;
  }

  private and(): Expr {
    let left = this.comparison();
    for (let op = this.takeOp('&&'); op; op = this.takeOp('&&')) {
      const right = this.comparison();
      left = this.deeper({ kind: 'binary', op: '&&', left, right, offset: op.offset }, left, right);
    }
    return left;
  }

  private comparison(): Expr {
    const left = this.unary();
    const op = this.takeOp('==', '!=', '<', '<=', '>', '>=');
    if (!op) return left;
    const right = this.unary();
    const expr = this.deeper({ kind: 'binary', op: op.value as BinaryOp, left, right, offset: op.offset }, left, right);
    const chained = this.takeOp('==', '!=', '<', '<=', '>', '>=');
    if (chained)
      throw new ExpressionSyntaxError('comparisons do not chain: combine them with && or ||', chained.offset);
    return expr;
  }

  private unary(): Expr {
    const op = this.takeOp('!', '-');
    if (op) {
      const operand = this.nested(op.offset, () => this.unary());
      return this.deeper({ kind: 'unary', op: op.value as '!' | '-', operand, offset: op.offset }, operand);
    }
    return this.primary();
  }

  private primary(): Expr {
    const token = this.peek();
    this.index++;
    switch (token.type) {
      case 'num':
      case 'str':
        return { kind: 'literal', value: token.value, offset: token.offset };
      case 'ident':
        return this.identifier(token);
      case 'op':
        if (token.value === '(')
          return this.nested(token.offset, () => {
            const inner = this.or();
            if (!this.takeOp(')')) throw new ExpressionSyntaxError("missing ')'", this.peek().offset);
            return inner;
          });
        throw new ExpressionSyntaxError(`unexpected ${describeToken(token)}`, token.offset);
      case 'end':
        throw new ExpressionSyntaxError('expression ends too early', token.offset);
    }
  }

  private identifier(token: Extract<Token, { type: 'ident' }>): Expr {
    if (KEYWORD_LITERALS.has(token.value)) {
      return { kind: 'literal', value: KEYWORD_LITERALS.get(token.value)!, offset: token.offset };
    }
    const path = [token.value];
    while (this.takeOp('.')) {
      const part = this.peek();
      if (part.type !== 'ident') throw new ExpressionSyntaxError("expected a name after '.'", part.offset);
      this.index++;
      path.push(part.value);
    }
    return { kind: 'ref', path, offset: token.offset };
  }
}

/** The depth of each node the parser built above a leaf (leaves are 0). */
const DEPTHS = new WeakMap<Expr, number>();
const depthOf = (expr: Expr) => DEPTHS.get(expr) ?? 0;

function describeToken(token: Token): string {
  if (token.type === 'end') return 'end of expression';
  return `'${String(token.value)}'`;
}

/** Parses the text between `${{` and `}}`; `base` is its offset in the surrounding string. */
export function parseExpression(text: string, base = 0): Expr {
  if (text.trim() === '') throw new ExpressionSyntaxError('empty expression', base);
  return new Parser(tokenize(text, base)).parse();
}

/** True when the string contains `${{`, i.e. the author meant an expression. */
export function hasExpression(value: string): boolean {
  return value.includes('${{');
}

/** Parses a YAML string holding `${{ }}`: a lone expression keeps its type, anything else is a template. */
export function parseValueExpression(value: string): ValueExpr {
  const parts: (string | Expr)[] = [];
  let cursor = 0;
  while (cursor < value.length) {
    const open = value.indexOf('${{', cursor);
    if (open < 0) {
      parts.push(value.slice(cursor));
      break;
    }
    if (open > cursor) parts.push(value.slice(cursor, open));
    const close = value.indexOf('}}', open + 3);
    if (close < 0) throw new ExpressionSyntaxError("'${{' is never closed with '}}'", open);
    parts.push(parseExpression(value.slice(open + 3, close), open + 3));
    cursor = close + 2;
  }
  const meaningful = parts.filter((p) => typeof p !== 'string' || p.trim() !== '');
  if (meaningful.length === 1 && typeof meaningful[0] !== 'string') return { $expr: meaningful[0]! };
  return { $template: parts };
}
