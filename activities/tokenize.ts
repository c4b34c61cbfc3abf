import { resolveDataPath } from '../data/resolve-data-path';
import { TimeSlicer } from '../data/time-slicer';
import { requiredColumns, rowEncoder, rowNames, vocabularyTexts } from '../ml/tokenizers/row-encoders';
import { readByteLevelBpeFiles } from '../ml/tokenizers/bpe-files';
import { PreTokenCounter, trainByteLevelBpe } from '../ml/tokenizers/byte-level-bpe-trainer';
import { BPE_SPECIALS, loadTokenizer, saveTokenizer, type TokenizerFile } from '../ml/tokenizers/tokenizer-file';
import { bertBaseUncasedVocab, readCheckpointVocabulary, readVocabTxt } from '../ml/tokenizers/vocab-files';
import { completeTagSet } from '../ml/tokenizers/task-encoding';
import { WordCounter, trainWordPiece } from '../ml/tokenizers/wordpiece-trainer';
import { readDataset, type Column, type Row } from '../store/arrow-io';
import { DatasetWriter } from '../store/dataset-writer';
import type { TokenizeOutputs, TokenizeSettings, TokenizeInputs } from '../core/contracts/tokenize';
import { InvalidStepInput, type StepImplementation } from './define-step';
import type { ActivityDeps } from './deps';
import { pretrainedDirectory, PRETRAINED_VOCAB_PREFIX } from './pretrained';

/** Bumped whenever the output of `tokenize` for the same input could change. */
export const TOKENIZE_VERSION = '8';

/**
 * `tokenize`: with a tokenizer input, applies it; otherwise builds one (a given vocabulary or one
 * trained on this dataset) and records the label or tag names in it, so later splits share both.
 */
export const tokenize: StepImplementation<TokenizeSettings, TokenizeOutputs, TokenizeInputs> = async (
  input,
  { deps, progress, provenance, signal },
) => {
  const options = input.with;
  const source = input.inputs.dataset;
  const columns = (source.schema ?? []) as Column[];
  const missing = requiredColumns(options).filter((name) => !columns.some((c) => c.name === name));
  if (missing.length > 0) {
    throw new InvalidStepInput(
      `task ${options.task} needs column "${missing[0]}", which the dataset lacks; its columns: ${columns.map((c) => c.name).join(', ')}`,
    );
  }
  if (options.task === 'seq2seq' && options.algorithm !== 'byte_level_bpe' && !input.inputs.tokenizer)
    throw new InvalidStepInput(
      'task seq2seq needs algorithm: byte_level_bpe, whose tokens decode to the exact text the model generates',
    );
  if (options.out_of_scope_label !== undefined && options.task !== 'classification')
    throw new InvalidStepInput(
      `out_of_scope_label applies to task classification only (this step's task is ${options.task}): remove it`,
    );
  const hasLabels = options.task === 'classification' && columns.some((c) => c.name === options.label_column);
  const parents = [source.sha256];
  let file: TokenizerFile;
  let tokenizerRef = input.inputs.tokenizer;
  if (tokenizerRef) {
    file = await loadTokenizer(deps.store, tokenizerRef);
    parents.push(tokenizerRef.sha256);
  } else {
    const counter =
      options.algorithm === 'byte_level_bpe'
        ? new PreTokenCounter()
        : new WordCounter({ lowercase: options.lowercase, stripAccents: options.lowercase });
    const collected = await collectTrainingInputs(readDataset(deps.store, source), options, hasLabels, counter, signal);
    const sorted = [...collected.names].sort();
    const named = {
      ...(hasLabels && { labels: sorted }),
      ...(options.task === 'token_classification' && { tags: completeTagSet(sorted) }),
      ...(options.task === 'question_answering' && {
        windows: { maxLength: options.max_length, stride: options.stride },
      }),
      ...(options.task === 'seq2seq' && { seq2seq: { contextTurns: options.context_turns } }),
    };
    file =
      options.algorithm === 'byte_level_bpe'
        ? {
            format: 'pipewright-tokenizer',
            version: 1,
            type: 'byte_level_bpe',
            ...byteLevelBpeVocabulary(options, counter.counts, input.run.dir, deps.dataRoots),
            ...named,
          }
        : {
            format: 'pipewright-tokenizer',
            version: 1,
            type: 'wordpiece',
            ...wordPieceVocabulary(options, counter.counts, input.run.dir, deps),
            continuingPrefix: '##',
            maxCharsPerWord: 100,
            ...named,
          };
    tokenizerRef = await saveTokenizer(deps.store, file, { provenance: provenance(parents) });
  }

  const names = options.task === 'token_classification' ? (file.tags ?? []) : (file.labels ?? []);
  const encoder = rowEncoder(file, names, columns, options, hasLabels);
  const writer = new DatasetWriter(
    deps.store,
    { kind: 'dataset', meta: { task: options.task }, provenance: provenance([...parents, tokenizerRef.sha256]) },
    encoder.columns,
  );
  let rows = 0;
  let written = 0;
  // Windows of answered questions that do not hold the answer: trained to point at [CLS].
  let withoutAnswer = 0;
  const slicer = new TimeSlicer();
  for await (const chunk of readDataset(deps.store, source)) {
    signal.throwIfAborted();
    const out: Row[] = [];
    for (const row of chunk) {
      await slicer.pause();
      out.push(...encoder.encode(row, ++rows));
    }
    written += out.length;
    withoutAnswer += out.filter(lacksAnswer).length;
    await writer.append(out);
    progress({ rows });
  }
  const dataset = await writer.close();
  const windows =
    options.task === 'question_answering' ? ` in ${written} windows (${withoutAnswer} without the answer)` : '';
  return {
    outputs: {
      dataset,
      tokenizer: tokenizerRef,
      vocab_size: file.vocab.length,
      unknown_tokens: encoder.unknownTokens(),
    },
    summary: `${rows} rows${windows}, vocabulary ${file.vocab.length}${vocabOrigin(input.inputs.tokenizer !== undefined, options, file.vocab.length)}, ${encoder.unknownTokens()} unknown tokens`,
  };
};

/** A window of an answered question that does not hold the answer (both positions at [CLS]). */
function lacksAnswer(window: Row): boolean {
  const answers = window.answers as { text?: readonly unknown[] } | null | undefined;
  return window.start_position === 0 && (answers?.text?.length ?? 0) > 0;
}

/** One pass over the dataset: feeds the texts to the counter (when training) and collects the label or tag names. */
async function collectTrainingInputs(
  rows: AsyncIterable<Row[]>,
  options: TokenizeSettings,
  hasLabels: boolean,
  counter: { add(text: string): void },
  signal: AbortSignal,
) {
  const names = new Set<string>();
  const training = options.vocab === undefined;
  const slicer = new TimeSlicer();
  for await (const chunk of rows) {
    signal.throwIfAborted();
    for (const row of chunk) {
      await slicer.pause();
      if (training) vocabularyTexts(row, options).forEach((text) => counter.add(text));
      rowNames(row, options, hasLabels).forEach((name) => names.add(name));
    }
  }
  return { names };
}

/**
 * The vocabulary and normalization of a WordPiece tokenizer: a pretrained checkpoint's own (its
 * normalization wins over `lowercase`), a given one, or one trained on the counted words.
 */
function wordPieceVocabulary(
  options: TokenizeSettings,
  counts: ReadonlyMap<string, number>,
  dir: string | undefined,
  deps: ActivityDeps,
): { vocab: string[]; lowercase: boolean; stripAccents: boolean; pretrained?: string } {
  const normalization = { lowercase: options.lowercase, stripAccents: options.lowercase };
  if (options.vocab?.startsWith(PRETRAINED_VOCAB_PREFIX)) {
    const pretrained = options.vocab.slice(PRETRAINED_VOCAB_PREFIX.length);
    const { vocab, lowercase, stripAccents } = readCheckpointVocabulary(pretrainedDirectory(pretrained, dir, deps));
    return { vocab, lowercase, stripAccents, pretrained };
  }
  if (options.vocab === 'bert-base-uncased') return { vocab: bertBaseUncasedVocab(), ...normalization };
  if (options.vocab !== undefined)
    return { vocab: readVocabTxt(resolveDataPath(options.vocab, dir, deps.dataRoots)), ...normalization };
  return {
    vocab: trainWordPiece(counts, {
      vocabSize: options.vocab_size,
      minFrequency: options.min_frequency,
      ...normalization,
    }),
    ...normalization,
  };
}

function byteLevelBpeVocabulary(
  options: TokenizeSettings,
  counts: ReadonlyMap<string, number>,
  dir: string | undefined,
  roots: readonly string[],
) {
  if (options.task !== 'classification' && options.task !== 'seq2seq')
    throw new InvalidStepInput(
      `algorithm byte_level_bpe supports tasks classification and seq2seq; ${options.task} needs wordpiece`,
    );
  if (options.vocab?.startsWith(PRETRAINED_VOCAB_PREFIX))
    throw new InvalidStepInput(`${options.vocab} is a WordPiece vocabulary: set algorithm: wordpiece`);
  if (options.vocab !== undefined) {
    if (options.merges === undefined)
      throw new InvalidStepInput('a byte_level_bpe vocab (vocab.json) needs its merges file too: set with.merges');
    return readByteLevelBpeFiles(
      resolveDataPath(options.vocab, dir, roots),
      resolveDataPath(options.merges, dir, roots),
    );
  }
  return trainByteLevelBpe(counts, {
    vocabSize: options.vocab_size,
    minFrequency: options.min_frequency,
    specialTokens: [BPE_SPECIALS.pad, BPE_SPECIALS.eos],
  });
}

function vocabOrigin(given: boolean, options: TokenizeSettings, size: number): string {
  if (given) return ' (given)';
  if (options.vocab !== undefined) return ` (${options.vocab})`;
  if (size < options.vocab_size)
    return ` (trained; ${options.vocab_size} asked, but no more pairs occur ${options.min_frequency}+ times)`;
  return ' (trained)';
}
