// Hugging Face export parity: a fine-tunable MiniLM with a classification head, one with a
// token-classification head and one with a question-answering span head (heads freshly
// initialized, so every tensor is exercised), written by `pipewright export --format huggingface`'s
// exporter and loaded by PyTorch transformers' AutoModelFor… and AutoTokenizer: same ids (and, for
// question/context pairs, token types), and logits within 1e-4.
// Usage: node dist/bench/export-parity.js
import type * as Tf from '@tensorflow/tfjs';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadBackend } from '../ml/backend/load-backend';
import { EncoderModel } from '../ml/models/encoder-model';
import { openBertCheckpoint } from '../ml/pretrained/bert-checkpoint';
import { exportHuggingFace } from '../ml/pretrained/huggingface-export';
import { loadPretrainedWeights, pretrainedConfig } from '../ml/pretrained/pretrained-encoder';
import { classification } from '../ml/tasks/classification';
import { questionAnswering } from '../ml/tasks/question-answering';
import { tokenClassification } from '../ml/tasks/token-classification';
import { encodeQuestionContext } from '../ml/tokenizers/task-encoding';
import type { Task } from '../ml/tasks/task';
import type { WordPieceFile } from '../ml/tokenizers/tokenizer-file';
import { readCheckpointVocabulary } from '../ml/tokenizers/vocab-files';
import { WordPieceTokenizer } from '../ml/tokenizers/wordpiece';
import { AdamW, ADAMW_DEFAULTS } from '../ml/train/adamw';
import { readCheckpoint, saveCheckpoint } from '../ml/train/checkpoint';
import { FileArtifactStore } from '../store/artifact-store';
import { PROJECT_ROOT } from '../worker/config';
import { miniLmDir } from './bert-parity';
import { referencePython } from './reference-venv';
import { sharedDataDir, sharedTexts } from './shared-texts';
import { readFileSync } from 'node:fs';

const TEXTS = 50;

async function exportedModel(tf: typeof Tf, work: string, task: Task, labels: string[], tokenizer: WordPieceFile) {
  const checkpoint = openBertCheckpoint(miniLmDir());
  const model = new EncoderModel(
    tf,
    pretrainedConfig(checkpoint, { classes: labels.length, pooling: 'first' }),
    task.head,
    7,
  );
  loadPretrainedWeights(tf, model, checkpoint);
  checkpoint.weights.close();
  const store = new FileArtifactStore(join(work, 'store'));
  const optimizer = new AdamW(tf, model.params, ADAMW_DEFAULTS);
  const ref = await saveCheckpoint(
    store,
    model,
    optimizer,
    { step: 0, epoch: 0, batchInEpoch: 0, seed: 7 },
    {
      task: task.name,
      labels,
    },
  );
  optimizer.dispose();
  const dir = join(work, task.name);
  exportHuggingFace(await readCheckpoint(store, ref), tokenizer, dir);
  return { model, dir };
}

async function main(): Promise<void> {
  const { tf } = await loadBackend();
  const vocabulary = readCheckpointVocabulary(miniLmDir((l) => process.stderr.write(`${l}\n`)));
  const tokenizerFile: WordPieceFile = {
    format: 'pipewright-tokenizer',
    version: 1,
    type: 'wordpiece',
    vocab: vocabulary.vocab,
    lowercase: vocabulary.lowercase,
    stripAccents: vocabulary.stripAccents,
    continuingPrefix: '##',
    maxCharsPerWord: 100,
  };
  const tokenizer = new WordPieceTokenizer(tokenizerFile);
  const all = sharedTexts();
  const texts = Array.from({ length: TEXTS }, (_, i) => all[Math.floor((i * all.length) / TEXTS)]!.slice(0, 300));
  const work = mkdtempSync(join(tmpdir(), 'pipewright-export-parity-'));
  try {
    // Question/context pairs from XQuAD, short enough for one window.
    const pairs = readFileSync(join(sharedDataDir(), 'xquad-en', 'test.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .slice(0, TEXTS)
      .map((line) => JSON.parse(line) as { question: string; context: string })
      .map((row) => [row.question, row.context.slice(0, 600)] as const);
    writeFileSync(join(work, 'texts.json'), JSON.stringify(texts));
    writeFileSync(join(work, 'pairs.json'), JSON.stringify(pairs));
    const single = (text: string) => {
      const ids = tokenizer.encodeWithSpecialTokens(text).ids;
      return { ids, types: ids.map(() => 0) };
    };
    const pair = (i: number) => {
      const [window] = encodeQuestionContext(tokenizer, pairs[i]![0], pairs[i]![1], undefined, {
        maxLength: 512,
        stride: 0,
      });
      return { ids: window!.inputIds, types: window!.tokenTypeIds };
    };
    const cases: [Task, string[], string, (i: number) => { ids: number[]; types: number[] }][] = [
      [
        classification,
        ['AddToPlaylist', 'BookRestaurant', 'GetWeather', 'PlayMusic', 'RateBook'],
        'texts.json',
        (i) => single(texts[i]!),
      ],
      [tokenClassification, ['B-LOC', 'B-PER', 'I-LOC', 'I-PER', 'O'], 'texts.json', (i) => single(texts[i]!)],
      [questionAnswering, ['start', 'end'], 'pairs.json', pair],
    ];
    for (const [task, labels, inputs, encode] of cases) {
      const { model, dir } = await exportedModel(tf, work, task, labels, tokenizerFile);
      const reference = JSON.parse(
        execFileSync(
          referencePython(),
          [join(PROJECT_ROOT, 'bench', 'reference', 'hf_export_logits.py'), dir, join(work, inputs)],
          { encoding: 'utf8', maxBuffer: 1 << 26 },
        ),
      ) as { architecture: string; rows: { ids: number[]; logits: number[] | number[][] }[] };
      let sameIds = 0;
      let worst = 0;
      reference.rows.forEach((row, i) => {
        const { ids, types } = encode(i);
        if (ids.length === row.ids.length && ids.every((id, k) => id === row.ids[k])) sameIds++;
        const ours = tf.tidy(() =>
          Array.from(
            model
              .logits(
                tf.tensor2d([ids], undefined, 'int32'),
                tf.ones([1, ids.length]),
                { training: false },
                { types: tf.tensor2d([types], undefined, 'int32') },
              )
              .dataSync(),
          ),
        );
        const theirs = row.logits.flat();
        worst = Math.max(worst, ...ours.map((x, k) => (theirs[k] === undefined ? Infinity : Math.abs(x - theirs[k]))));
      });
      console.log(
        `${task.name} → ${reference.architecture}: transformers' tokenizer gives our ids for ${sameIds} of ${TEXTS} texts; max |logits ours − transformers| ${worst.toExponential(2)}`,
      );
      model.dispose();
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
