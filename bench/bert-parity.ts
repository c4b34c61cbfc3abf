// Pretrained-encoder parity: our encoder's last hidden states on a Hugging Face checkpoint against
// PyTorch transformers' BertModel on the same checkpoint and token ids, for 1,000 texts of
// ../shared/data (in padded batches), on the eager path and the graph path; also whether our
// tokenizer gives the checkpoint tokenizer's ids.
// Usage: node dist/bench/bert-parity.js [--checkpoint DIR] [--write-fixture]
import type * as Tf from '@tensorflow/tfjs';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadBackend } from '../ml/backend/load-backend';
import { EagerOps } from '../ml/models/eager-ops';
import { HIDDEN_STATES } from '../ml/models/encoder';
import { EncoderModel } from '../ml/models/encoder-model';
import { openBertCheckpoint } from '../ml/pretrained/bert-checkpoint';
import { fetchPretrained, toolsFetchOptions } from '../ml/pretrained/catalog';
import { loadPretrainedWeights, pretrainedConfig } from '../ml/pretrained/pretrained-encoder';
import { readCheckpointVocabulary } from '../ml/tokenizers/vocab-files';
import { WordPieceTokenizer } from '../ml/tokenizers/wordpiece';
import { PROJECT_ROOT } from '../worker/config';
import { referencePython } from './reference-venv';
import { sharedTexts } from './shared-texts';

export const BERT_PARITY_FIXTURE = join(PROJECT_ROOT, 'test', 'fixtures', 'minilm-hidden-states.json');
const TEXTS = 1000;
const BATCH = 16;
/** Token ids per text at most: longer texts keep their first pieces and [SEP]. */
const MAX_TOKENS = 128;

/** The catalog MiniLM checkpoint, fetched into .tools/models if it is not there yet. */
export function miniLmDir(log: (line: string) => void = () => {}): string {
  return fetchPretrained('all-minilm-l6-v2', toolsFetchOptions(join(PROJECT_ROOT, '.tools'), log));
}

/** A checkpoint's encoder with the last hidden states as its head, and the checkpoint's tokenizer. */
export function checkpointEncoder(tf: typeof Tf, dir: string): { model: EncoderModel; tokenizer: WordPieceTokenizer } {
  const checkpoint = openBertCheckpoint(dir);
  try {
    const config = pretrainedConfig(checkpoint, { classes: 2, pooling: 'first' });
    const model = new EncoderModel(tf, config, HIDDEN_STATES, undefined);
    loadPretrainedWeights(tf, model, checkpoint);
    const vocabulary = readCheckpointVocabulary(dir);
    const tokenizer = new WordPieceTokenizer({
      vocab: vocabulary.vocab,
      lowercase: vocabulary.lowercase,
      stripAccents: vocabulary.stripAccents,
      continuingPrefix: '##',
      maxCharsPerWord: 100,
    });
    return { model, tokenizer };
  } finally {
    checkpoint.weights.close();
  }
}

/** Token ids of a text as the checkpoint's model takes them: [CLS] … [SEP], at most MAX_TOKENS. */
export function modelIds(tokenizer: WordPieceTokenizer, text: string): number[] {
  const ids = tokenizer.encodeWithSpecialTokens(text).ids;
  return ids.length <= MAX_TOKENS ? ids : [...ids.slice(0, MAX_TOKENS - 1), ids[ids.length - 1]!];
}

/** Texts padded into one batch: ids and a 0/1 mask [texts, longest]. */
export function padded(idLists: readonly (readonly number[])[]): { ids: number[][]; mask: number[][] } {
  const length = Math.max(...idLists.map((ids) => ids.length));
  return {
    ids: idLists.map((ids) => [...ids, ...new Array<number>(length - ids.length).fill(0)]),
    mask: idLists.map((ids) => ids.map(() => 1).concat(new Array<number>(length - ids.length).fill(0))),
  };
}

/** The last hidden states of a padded batch's real tokens, text by text: rows [tokens, hidden] flattened. */
export function hiddenStates(
  tf: typeof Tf,
  model: EncoderModel,
  batch: { ids: number[][]; mask: number[][] },
  path: 'eager' | 'graph',
): Float32Array[] {
  return tf.tidy(() => {
    const ids = tf.tensor2d(batch.ids, undefined, 'int32');
    const mask = tf.tensor2d(batch.mask, undefined, 'float32');
    const rows =
      path === 'graph'
        ? model.logits(ids, mask, { training: false })
        : (HIDDEN_STATES.logits(new EagerOps(tf, { training: false }), (n) => model.params.get(n)!, model.config, {
            ids,
            mask,
            positions: model.positionEncodings(ids.shape[1]),
          }) as Tf.Tensor2D);
    const values = rows.dataSync() as Float32Array;
    const d = model.config.hidden;
    const length = ids.shape[1];
    return batch.mask.map((m, t) => values.slice(t * length * d, (t * length + m.filter((x) => x > 0).length) * d));
  });
}

function maxAbsDifference(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return Infinity;
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i]! - b[i]!));
  return max;
}

/** Rows a fixture keeps of a text's hidden states: the first token's, the last's, and the mean. */
export function fixtureRows(states: Float32Array, hidden: number): number[][] {
  const tokens = states.length / hidden;
  // Seven significant digits keep float32 values to within 1e-7 relative, and the file small.
  const round = (x: number) => Number(x.toPrecision(7));
  const row = (t: number) => Array.from(states.subarray(t * hidden, (t + 1) * hidden), round);
  const mean = Array.from({ length: hidden }, (_, i) => {
    let sum = 0;
    for (let t = 0; t < tokens; t++) sum += states[t * hidden + i]!;
    return round(sum / tokens);
  });
  return [row(0), row(tokens - 1), mean];
}

async function main(): Promise<void> {
  const at = process.argv.indexOf('--checkpoint');
  const dir = at > 0 ? process.argv[at + 1]! : miniLmDir((l) => process.stderr.write(`${l}\n`));
  const { tf, backend } = await loadBackend();
  const { model, tokenizer } = checkpointEncoder(tf, dir);
  const all = sharedTexts();
  const texts = Array.from({ length: TEXTS }, (_, i) => all[Math.floor((i * all.length) / TEXTS)]!);
  const idLists = texts.map((text) => modelIds(tokenizer, text));
  const batches = Array.from({ length: Math.ceil(TEXTS / BATCH) }, (_, b) =>
    padded(idLists.slice(b * BATCH, (b + 1) * BATCH)),
  );
  const work = mkdtempSync(join(tmpdir(), 'pipewright-bert-parity-'));
  try {
    writeFileSync(join(work, 'input.json'), JSON.stringify({ texts, batches }));
    const reference = JSON.parse(
      execFileSync(
        referencePython(),
        [
          join(PROJECT_ROOT, 'bench', 'reference', 'hf_bert_hidden.py'),
          dir,
          join(work, 'input.json'),
          join(work, 'hidden.bin'),
        ],
        { encoding: 'utf8', maxBuffer: 1 << 28 },
      ),
    ) as { ids: number[][]; seconds: number; torch: string };
    const raw = readFileSync(join(work, 'hidden.bin'));
    const expectedAll = new Float32Array(raw.buffer, raw.byteOffset, raw.byteLength / 4);
    const d = model.config.hidden;
    let offset = 0;
    const expected = idLists.map((ids) => {
      const rows = expectedAll.slice(offset, offset + ids.length * d);
      offset += ids.length * d;
      return rows;
    });
    // Texts the reference tokenizer splits the same way (before our truncation to MAX_TOKENS).
    const sameIds = texts.filter((text, i) => {
      const ours = tokenizer.encodeWithSpecialTokens(text).ids;
      return ours.length === reference.ids[i]!.length && ours.every((id, k) => id === reference.ids[i]![k]);
    }).length;
    console.log(`checkpoint ${dir}; backend ${backend}; PyTorch ${reference.torch}`);
    console.log(`tokenizer: ${sameIds} of ${TEXTS} texts get the checkpoint tokenizer's ids exactly`);
    for (const path of ['eager', 'graph'] as const) {
      let worst = 0;
      let over = 0;
      const started = performance.now();
      const ours = batches.flatMap((batch) => hiddenStates(tf, model, batch, path));
      const seconds = (performance.now() - started) / 1000;
      ours.forEach((states, i) => {
        const difference = maxAbsDifference(states, expected[i]!);
        worst = Math.max(worst, difference);
        if (difference > 1e-4) over++;
      });
      console.log(
        `${path}: max |ours − transformers| over ${TEXTS} texts ${worst.toExponential(2)}; texts over 1e-4: ${over}; forward ${seconds.toFixed(2)} s (PyTorch ${reference.seconds.toFixed(2)} s)`,
      );
    }
    if (process.argv.includes('--write-fixture')) {
      const picked = [0, 137, 502, 999];
      const fixture = picked.map((i) => ({ text: texts[i], ids: idLists[i], rows: fixtureRows(expected[i]!, d) }));
      writeFileSync(BERT_PARITY_FIXTURE, JSON.stringify({ checkpoint: 'all-minilm-l6-v2', texts: fixture }) + '\n');
      console.log(`wrote ${BERT_PARITY_FIXTURE}`);
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
    model.dispose();
  }
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
