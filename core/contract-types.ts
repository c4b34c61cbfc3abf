import type { ArtifactRef } from './artifacts';

/**
 * The TypeScript type of the values a JSON Schema (declared `as const`) admits, for the subset the
 * step contracts use: enums, strings, numbers, booleans, arrays and objects. A property with a
 * default is always present (the step receives its `with:` with the defaults filled in), one the
 * schema requires too; the others are optional. Step implementations get their `with:` typed by
 * their contract's schema, so a setting read that the schema does not declare fails to compile.
 */
export type SettingsOf<S> = S extends { readonly enum: readonly (infer E)[] }
  ? E
  : S extends { readonly type: 'string' }
    ? string
    : S extends { readonly type: 'number' | 'integer' }
      ? number
      : S extends { readonly type: 'boolean' }
        ? boolean
        : S extends { readonly type: 'array'; readonly items: infer I }
          ? SettingsOf<I>[]
          : S extends { readonly type: 'object'; readonly properties: infer P }
            ? ObjectOf<P, RequiredOf<S>>
            : S extends { readonly type: 'object'; readonly additionalProperties: infer A extends object }
              ? Record<string, SettingsOf<A>>
              : S extends { readonly type: 'object' }
                ? Record<string, unknown>
                : unknown;

type RequiredOf<S> = S extends { readonly required: readonly (infer R)[] } ? R : never;

type PresentKeys<P, R> = {
  [K in keyof P]: P[K] extends { readonly default: unknown } ? K : K extends R ? K : never;
}[keyof P];

type ObjectOf<P, R> = Flatten<
  { -readonly [K in PresentKeys<P, R>]: SettingsOf<P[K]> } & {
    -readonly [K in Exclude<keyof P, PresentKeys<P, R>>]?: SettingsOf<P[K]>;
  }
>;

type Flatten<T> = { [K in keyof T]: T[K] };

/**
 * The TypeScript type of a step's outputs from its contract's `outputs` (declared `as const`): an
 * artifact kind is a reference, `number`, `string` and `boolean` are themselves. An output the
 * contract declares optional (Partial) may be absent.
 */
export type OutputsOf<O> = { -readonly [K in keyof O]: O[K] extends { readonly type: infer T } ? ValueOf<T> : unknown };

type ValueOf<T> = T extends 'string'
  ? string
  : T extends 'number'
    ? number
    : T extends 'boolean'
      ? boolean
      : T extends 'null'
        ? null
        : T extends 'object' | 'any'
          ? unknown
          : ArtifactRef;

/**
 * The TypeScript type of a step's wired inputs from its contract's `inputs` (declared `as const`):
 * each an artifact reference, present when the contract requires it (the compiler refuses a
 * pipeline that leaves one unwired), optional otherwise.
 */
export type InputsOf<I> = Flatten<
  { -readonly [K in keyof I as I[K] extends { readonly required: true } ? K : never]: ArtifactRef } & {
    -readonly [K in keyof I as I[K] extends { readonly required: true } ? never : K]?: ArtifactRef;
  }
>;
