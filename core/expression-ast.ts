// The expression AST is plain JSON so that a compiled plan can carry it into the workflow.

export type Literal = string | number | boolean | null;

export type Expr =
  | { readonly kind: 'literal'; readonly value: Literal; readonly offset: number }
  | { readonly kind: 'ref'; readonly path: readonly string[]; readonly offset: number }
  | { readonly kind: 'unary'; readonly op: '!' | '-'; readonly operand: Expr; readonly offset: number }
  | {
      readonly kind: 'binary';
      readonly op: BinaryOp;
      readonly left: Expr;
      readonly right: Expr;
      readonly offset: number;
    };

export type BinaryOp = '==' | '!=' | '<' | '<=' | '>' | '>=' | '&&' | '||';

/** A YAML value that is, or contains, expressions: one whole expression keeps its type, a template is a string. */
export type ValueExpr = { readonly $expr: Expr } | { readonly $template: readonly (string | Expr)[] };

export function isValueExpr(value: unknown): value is ValueExpr {
  return typeof value === 'object' && value !== null && ('$expr' in value || '$template' in value);
}
