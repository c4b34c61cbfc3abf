// Where the time of our TensorFlow graphs goes, op by op: records the session calls of one
// training step and of batch-1 and full-batch inference of the train-throughput benchmark's model
// (or, with --model minilm, of the catalog's MiniLM with its pretrained weights, nothing frozen),
// or, with --model chatbot, a cached decoding step at batch 1 and `--batch` of a seq2seq model the
// size of the chatbot example after 32 tokens), then has TensorFlow's own Python package (the
// version our native backend runs, in .tools/profile-venv) load each graph, time it, and trace it
// with its ops run one at a time.
// Usage: node dist/bench/graph-profile.js [--seq 64] [--batch 32] [--threads <cores>]
//        [--task classification|token_classification] [--model bench|minilm|chatbot]
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import type * as Tf from '@tensorflow/tfjs';
import { TRAIN_TASKS, type TrainTask } from '../core/metrics';
import { loadBackend, setIntraOpThreads } from '../ml/backend/load-backend';
import { DecodingRun } from '../ml/generation/decoding-run';
import type { EncoderConfig } from '../ml/models/encoder-config';
import { EncoderModel } from '../ml/models/encoder-model';
import { openBertCheckpoint } from '../ml/pretrained/bert-checkpoint';
import { loadPretrainedWeights, pretrainedConfig } from '../ml/pretrained/pretrained-encoder';
import { encoderObjective, predictClasses } from '../ml/tasks/encoder-objective';
import { taskNamed } from '../ml/tasks/registry';
import { seq2seq } from '../ml/tasks/seq2seq';
import { AdamW, ADAMW_DEFAULTS } from '../ml/train/adamw';
import { trainStep } from '../ml/train/train-step';
import { PROJECT_ROOT } from '../worker/config';
import { miniLmDir } from './bert-parity';
import { chatbotSizedConfig } from './chatbot-sized-seq2seq';
import { tensorflowPython } from './reference-venv';
import { benchBatch, benchConfig, firstRows } from './train-throughput';

/** tfjs-node's SavedModel calls, which the graph runner makes (not in tfjs's public types). */
interface SessionBackend {
  loadSavedModelMetaGraph(path: string, tags: string): number;
  runSavedModel(id: number, inputs: Tf.Tensor[], infos: { name: string }[], outputs: string[]): Tf.Tensor[];
}

interface Profile {
  readonly wall_ms: number;
  /** [op type, ms, nodes], most time first. */
  readonly ops: readonly [string, number, number][];
}

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1]! : fallback;
}

/** A session call to profile: `work` makes it, after `before` (whose calls are not recorded). */
interface ProfiledCall {
  readonly name: string;
  readonly before?: () => void;
  readonly work: () => void;
}

/**
 * Watches the backend's session calls: `record(dir, work)` runs `work` and writes the first call it
 * makes (the SavedModel's directory, the feeds, the outputs) under `dir`.
 */
function sessionRecorder(backend: SessionBackend): (dir: string, work: () => void) => void {
  const graphDirs = new Map<number, string>();
  const load = backend.loadSavedModelMetaGraph.bind(backend);
  backend.loadSavedModelMetaGraph = (path, tags) => {
    const id = load(path, tags);
    graphDirs.set(id, path);
    return id;
  };
  let target: string | undefined;
  const run = backend.runSavedModel.bind(backend);
  backend.runSavedModel = (id, inputs, infos, outputs) => {
    if (target) {
      const dir = target;
      target = undefined;
      const feeds = inputs.map((t, i) => {
        const values = t.dataSync();
        const file = `feed${i}.bin`;
        writeFileSync(join(dir, file), Buffer.from(values.buffer, values.byteOffset, values.byteLength));
        return { name: infos[i]!.name, dtype: t.dtype, shape: t.shape, file };
      });
      writeFileSync(join(dir, 'call.json'), JSON.stringify({ dir: graphDirs.get(id), feeds, outputs }));
    }
    return run(id, inputs, infos, outputs);
  };
  return (dir, work) => {
    target = dir;
    work();
    if (target) throw new Error('the work made no session call: is the native backend running graphs?');
  };
}

/** The model to profile and the config its batches are built for (sequences of `seq`). */
function profiledModel(tf: typeof Tf, name: string, task: TrainTask, seq: number) {
  const head = taskNamed(task).head;
  if (name === 'bench') {
    const config = benchConfig(seq);
    return { label: "encoder (train-throughput's model)", model: new EncoderModel(tf, config, head, 0), config };
  }
  if (name !== 'minilm') throw new Error('--model must be bench, minilm or chatbot');
  const checkpoint = openBertCheckpoint(miniLmDir((line) => process.stderr.write(`${line}\n`)));
  const shape = pretrainedConfig(checkpoint, { classes: benchConfig(seq).classes, pooling: 'first' });
  const model = new EncoderModel(tf, shape, head, 0);
  loadPretrainedWeights(tf, model, checkpoint);
  checkpoint.weights.close();
  const config: EncoderConfig = { ...shape, maxLength: seq };
  return { label: 'MiniLM (all-minilm-l6-v2, pretrained, nothing frozen)', model, config };
}

/** A cached decoding step of the chatbot-sized seq2seq model at each batch size, after 32 tokens. */
function decodingCalls(tf: typeof Tf, batches: readonly number[]): { label: string; calls: ProfiledCall[] } {
  const model = new EncoderModel(tf, chatbotSizedConfig(96, 0.1), seq2seq.head, 1);
  const options = { padId: 0, startId: 1, stopId: 1, maxNewTokens: 64, minNewTokens: 64 };
  const calls = batches.map((batch): ProfiledCall => {
    const sources = Array.from({ length: batch }, (_, r) =>
      Array.from({ length: 32 }, (_, i) => 2 + ((r * 31 + i * 7) % 7990)),
    );
    let run: DecodingRun | undefined;
    return {
      name: `cached decoding step, batch ${batch}, source 32 tokens, 32 decoded`,
      before: () => {
        run = new DecodingRun(tf, model, sources, options);
        for (let i = 0; i < 32; i++) run.step();
      },
      work: () => run!.step(),
    };
  });
  return { label: 'seq2seq the size of the chatbot example (2+2 blocks, hidden 128)', calls };
}

/** A training step and batch-1 and full-batch inference of the encoder `name`. */
function encoderCalls(tf: typeof Tf, name: string, task: TrainTask, seq: number, batchSize: number) {
  const { label, model, config } = profiledModel(tf, name, task, seq);
  const optimizer = new AdamW(tf, model.params, { ...ADAMW_DEFAULTS, weightDecay: 0.01 });
  const objective = encoderObjective(tf, model, { labelSmoothing: 0 });
  const batch = benchBatch(task, config, batchSize);
  const calls: ProfiledCall[] = [
    { name: 'training step', work: () => trainStep(tf, objective, optimizer, batch, 1e-3, 0) },
    { name: 'inference, batch 1', work: () => predictClasses(tf, model, firstRows(batch, 1)) },
    { name: `inference, batch ${batchSize}`, work: () => predictClasses(tf, model, firstRows(batch, batchSize)) },
  ];
  return { label: `${label}, ${task} head, seq ${seq}`, calls };
}

async function main(): Promise<void> {
  const task = arg('task', 'classification') as TrainTask;
  if (!TRAIN_TASKS.includes(task)) throw new Error(`--task must be one of ${TRAIN_TASKS.join(', ')}`);
  const seq = Number(arg('seq', '64'));
  const batchSize = Number(arg('batch', '32'));
  const threads = Number(arg('threads', String(cpus().length)));
  const modelName = arg('model', 'bench');
  setIntraOpThreads(threads);
  const { tf } = await loadBackend('tensorflow');
  const record = sessionRecorder(tf.backend() as unknown as SessionBackend);
  const { label, calls } =
    modelName === 'chatbot' ? decodingCalls(tf, [1, batchSize]) : encoderCalls(tf, modelName, task, seq, batchSize);
  const root = mkdtempSync(join(tmpdir(), 'pipewright-graph-profile-'));
  console.log(`${label}, batch ${batchSize}; ${threads} intra-op threads`);
  try {
    for (const { name, before, work } of calls) {
      const dir = mkdtempSync(join(root, 'call-'));
      before?.();
      record(dir, work);
      const profile = (inter: number) =>
        JSON.parse(
          execFileSync(
            tensorflowPython(),
            [join(PROJECT_ROOT, 'bench', 'reference', 'profile_graph.py'), dir, String(threads), String(inter)],
            { encoding: 'utf8', env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: '3' } },
          )
            .trim()
            .split('\n')
            .pop()!,
        ) as Profile;
      const parallel = profile(0);
      const serial = profile(1);
      const traced = serial.ops.reduce((total, [, ms]) => total + ms, 0);
      const matMul = serial.ops.filter(([op]) => /MatMul/.test(op)).reduce((total, [, ms]) => total + ms, 0);
      console.log(
        `\n${name}: ${parallel.wall_ms.toFixed(2)} ms a call (TensorFlow's inter-op threads), ` +
          `${serial.wall_ms.toFixed(2)} ms with ops one at a time; traced one at a time ${traced.toFixed(2)} ms, ` +
          `of which MatMuls ${matMul.toFixed(2)} ms (${((100 * matMul) / traced).toFixed(1)} %)`,
      );
      console.log('op type                         ms    nodes  share');
      for (const [op, ms, nodes] of serial.ops.slice(0, 16))
        console.log(
          `${op.padEnd(28)} ${ms.toFixed(3).padStart(7)} ${String(nodes).padStart(6)}  ${((100 * ms) / traced).toFixed(1).padStart(5)} %`,
        );
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

void main();
