import { join } from 'node:path';
import { resolveDataPath } from '../data/resolve-data-path';
import { loadTokenizer, saveTokenizer, tokenizerFromFile, type TokenizerFile } from '../ml/tokenizers/tokenizer-file';
import { bertBaseUncasedVocab, readVocabTxt } from '../ml/tokenizers/vocab-files';
import { WordCounter, trainWordPiece } from '../ml/tokenizers/wordpiece-trainer';
import { readDataset, type Column, type Row } from '../store/arrow-io';
import { DatasetWriter } from '../store/dataset-writer';
import { InvalidStepInput, type StepImplementation } from './define-step';

/** Bumped whenever the output of `tokenize` for the same input could change. */
export const TOKENIZE_VERSION = '1';

interface TokenizeOptions {
  text_column: string;
  label_column: string;
  vocab?: string;
  vocab_size: number;
  min_frequency: number;
  lowercase: boolean;
  add_special_tokens: boolean;
}

function vocabOrigin(given: boolean, options: TokenizeOptions, size: number): string {
  if (given) return ' (given)';
  if (options.vocab !== undefined) return ` (${options.vocab})`;
  if (size < options.vocab_size)
    return ` (trained; ${options.vocab_size} asked, but no more pairs occur ${options.min_frequency}+ times)`;
  return ' (trained)';
}

/** A cell as text: strings as they are, empty for null, anything else as JSON. */
function textOf(value: unknown): string {
  return typeof value === 'string' ? value : value === null || value === undefined ? '' : JSON.stringify(value);
}

const TOKEN_COLUMNS: Column[] = [
  { name: 'input_ids', type: 'list<int32>' },
  { name: 'token_start', type: 'list<int32>' },
  { name: 'token_end', type: 'list<int32>' },
];

/**
 * `tokenize`: with a tokenizer input, applies it; otherwise builds one (a given vocabulary or one
 * trained on this dataset) and records the label names in it, so later splits share both.
 */
export const tokenize: StepImplementation = async (input, { deps, progress, provenance, signal }) => {
  const options = input.with as unknown as TokenizeOptions;
  const source = input.inputs.dataset!;
  const columns = (source.schema ?? []) as Column[];
  if (!columns.some((c) => c.name === options.text_column)) {
    throw new InvalidStepInput(
      `the dataset has no column "${options.text_column}"; its columns: ${columns.map((c) => c.name).join(', ')}; set with.text_column`,
    );
  }
  const hasLabels = columns.some((c) => c.name === options.label_column);
  const parents = [source.sha256];
  let file: TokenizerFile;
  let tokenizerRef = input.inputs.tokenizer;
  if (tokenizerRef) {
    file = await loadTokenizer(deps.store, tokenizerRef);
    parents.push(tokenizerRef.sha256);
  } else {
    const counter = new WordCounter({ lowercase: options.lowercase, stripAccents: options.lowercase });
    const labels = new Set<string>();
    for await (const chunk of readDataset(deps.store, source)) {
      signal.throwIfAborted();
      for (const row of chunk) {
        if (options.vocab === undefined) counter.add(textOf(row[options.text_column]));
        if (hasLabels && row[options.label_column] !== null) labels.add(String(row[options.label_column]));
      }
    }
    const vocab =
      options.vocab === 'bert-base-uncased'
        ? bertBaseUncasedVocab()
        : options.vocab !== undefined
          ? readVocabTxt(resolveDataPath(options.vocab, input.run.dir, deps.dataRoots))
          : trainWordPiece(counter.counts, {
              vocabSize: options.vocab_size,
              minFrequency: options.min_frequency,
              lowercase: options.lowercase,
              stripAccents: options.lowercase,
            });
    file = {
      format: 'pipewright-tokenizer',
      version: 1,
      type: 'wordpiece',
      vocab,
      lowercase: options.lowercase,
      stripAccents: options.lowercase,
      continuingPrefix: '##',
      maxCharsPerWord: 100,
      ...(hasLabels && { labels: [...labels].sort() }),
    };
    tokenizerRef = await saveTokenizer(deps.store, file, {
      provenance: provenance(parents, options.vocab ? { sources: [join('vocab', options.vocab)] } : {}),
    });
  }

  const tokenizer = tokenizerFromFile(file);
  const labelIds = new Map((file.labels ?? []).map((name, id) => [name, id]));
  const outColumns: Column[] = [
    ...columns,
    ...TOKEN_COLUMNS,
    ...(hasLabels ? [{ name: 'label_id', type: 'int32' as const }] : []),
  ];
  const writer = new DatasetWriter(
    deps.store,
    { kind: 'dataset', provenance: provenance([...parents, tokenizerRef.sha256]) },
    outColumns,
  );
  let rows = 0;
  let unknown = 0;
  for await (const chunk of readDataset(deps.store, source)) {
    signal.throwIfAborted();
    const out: Row[] = chunk.map((row) => {
      rows++;
      const text = textOf(row[options.text_column]);
      const encoding = options.add_special_tokens ? tokenizer.encodeWithSpecialTokens(text) : tokenizer.encode(text);
      unknown += encoding.ids.filter((id) => id === tokenizer.unkId).length;
      const encoded: Row = {
        ...row,
        input_ids: encoding.ids,
        token_start: encoding.offsets.map((o) => o[0]),
        token_end: encoding.offsets.map((o) => o[1]),
      };
      if (hasLabels) {
        const label = String(row[options.label_column]);
        const id = labelIds.get(label);
        if (id === undefined) {
          throw new InvalidStepInput(
            `row ${rows}: label "${label}" is not among the tokenizer's labels (${[...labelIds.keys()].join(', ')}); was the tokenizer built on another dataset?`,
          );
        }
        encoded.label_id = id;
      }
      return encoded;
    });
    await writer.append(out);
    progress({ rows });
  }
  const dataset = await writer.close();
  return {
    outputs: { dataset, tokenizer: tokenizerRef, vocab_size: file.vocab.length, unknown_tokens: unknown },
    summary: `${rows} rows, vocabulary ${file.vocab.length}${vocabOrigin(input.inputs.tokenizer !== undefined, options, file.vocab.length)}, ${unknown} unknown tokens`,
  };
};
