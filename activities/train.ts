import { activityInfo, CancelledFailure, cancellationSignal, log } from '@temporalio/activity';
import type * as Tf from '@tensorflow/tfjs';
import { loadBackend } from '../ml/backend/load-backend';
import type { EncoderConfig } from '../ml/models/encoder-config';
import { EncoderModel } from '../ml/models/encoder-model';
import { encoderObjective } from '../ml/tasks/encoder-objective';
import { taskNamed } from '../ml/tasks/registry';
import { openBertCheckpoint, type BertCheckpoint } from '../ml/pretrained/bert-checkpoint';
import { loadPretrainedWeights, pretrainedConfig } from '../ml/pretrained/pretrained-encoder';
import type { Task } from '../ml/tasks/task';
import { loadTokenizer, type TokenizerFile } from '../ml/tokenizers/tokenizer-file';
import { AdamW } from '../ml/train/adamw';
import {
  readCheckpoint,
  restoreFrom,
  saveBaseWeights,
  saveCheckpoint,
  type CheckpointBase,
  type TrainingPosition,
} from '../ml/train/checkpoint';
import { datasetBatches, TrainingDataError } from '../ml/train/dataset-batches';
import { frozenParameters } from '../ml/train/parameter-groups';
import { trainEpoch } from '../ml/train/epoch';
import type { ArtifactRef } from '../core/artifacts';
import type { JournalKey } from '../store/checkpoint-journal';
import { asStepFailure } from './define-step';
import type { ActivityDeps } from './deps';
import { KeptHeartbeat } from './kept-heartbeat';
import { untilServerAnswers } from './until-server-answers';
import { pretrainedDirectory } from './pretrained';
import { adamWConfig, encoderConfig, lossOptions, lrSchedule } from './train-settings';
import type {
  TrainCancellation,
  TrainEpochInput,
  TrainEpochResult,
  TrainHeartbeat,
  TrainSettings,
} from './training-io';

/** How often a training attempt repeats its latest heartbeat while it awaits; well under the heartbeat timeout. */
const KEEP_ALIVE_MS = 2_000;

/**
 * The `train` activity: one epoch over the `batch` step's file. It heartbeats every step, writes a
 * checkpoint every `checkpoint_every` steps, and on a retry continues from the newest checkpoint that
 * verifies (named by the last heartbeat or the epoch's journal), else from the previous epoch's.
 */
export function createTrainActivity(deps: ActivityDeps) {
  return async function train(input: TrainEpochInput): Promise<TrainEpochResult> {
    // Until this attempt reports a step, the last attempt's details (naming its checkpoint) are kept.
    const beats = new KeptHeartbeat(activityInfo().heartbeatDetails, KEEP_ALIVE_MS);
    try {
      const result = await trainOneEpoch(deps, input, beats);
      // The kept heartbeat goes on while the result waits for the server.
      await untilServerAnswers(() => undefined);
      return result;
    } catch (error) {
      throw asStepFailure(error);
    } finally {
      beats.stop();
    }
  };
}

async function trainOneEpoch(
  deps: ActivityDeps,
  input: TrainEpochInput,
  beats: KeptHeartbeat,
): Promise<TrainEpochResult> {
  const { tf, backend } = await loadBackend();
  const { settings } = input;
  const task = taskNamed(settings.task);
  const tokenizer = await loadTokenizer(deps.store, input.tokenizer);
  const labels = task.classNames(tokenizer);
  if (labels.length < 2)
    throw new TrainingDataError(
      `step "${input.stepId}": the tokenizer knows ${labels.length} ${task.name === 'classification' ? 'label' : 'tag'}(s); ${task.name} needs at least 2: ${task.missingNamesHint}`,
    );
  const columns = (input.batches.schema ?? []).map((c) => c.name);
  const missing = task.columns.filter((name) => !columns.includes(name));
  if (columns.length > 0 && missing.length > 0)
    throw new TrainingDataError(
      `step "${input.stepId}": task ${task.name} needs column(s) ${missing.join(', ')}, which the training rows lack (they have ${columns.join(', ')}): set the train step's task to the tokenize step's task`,
    );
  const pretrained = settings.model.pretrained;
  const checkpoint = pretrained ? openBertCheckpoint(pretrainedDirectory(pretrained, input.run.dir, deps)) : undefined;
  try {
    const config = checkpoint
      ? pretrainedConfig(checkpoint, {
          classes: labels.length,
          pooling: settings.model.pooling,
          dropout: settings.model.dropout,
        })
      : encoderConfig(settings, tokenizer.vocab.length, input.maxLength, labels.length);
    if (checkpoint) checkPretrainedFit(input, tokenizer, config);
    return await trainWith(deps, input, beats, { tf, backend, task, labels, config, checkpoint });
  } finally {
    checkpoint?.weights.close();
  }
}

/** The parameters `freeze` holds still in this epoch: none from `unfreeze_at_epoch` on. */
function frozenThisEpoch(input: TrainEpochInput, model: EncoderModel): Set<string> {
  const { freeze, unfreeze_at_epoch: unfreezeAt } = input.settings;
  const frozen = frozenParameters([...model.params.keys()], freeze ?? []);
  if (unfreezeAt !== undefined && input.epoch + 1 >= unfreezeAt) return new Set();
  if (frozen.size > 0)
    log.info(
      `epoch ${input.epoch + 1}: ${frozen.size} of ${model.params.size} parameters frozen (${freeze!.join(', ')})`,
    );
  return frozen;
}

/** A pretrained model's vocabulary must be its tokenizer's, and its position table as long as the rows. */
function checkPretrainedFit(input: TrainEpochInput, tokenizer: TokenizerFile, config: EncoderConfig): void {
  const pretrained = input.settings.model.pretrained!;
  const fail = (message: string) => new TrainingDataError(`step "${input.stepId}": ${message}`);
  const vocabularyOf = tokenizer.type === 'wordpiece' ? tokenizer.pretrained : undefined;
  if (vocabularyOf !== pretrained)
    throw fail(
      `model.pretrained is ${pretrained} but the rows were tokenized with ${vocabularyOf ? `the vocabulary of ${vocabularyOf}` : 'another vocabulary'}; set the tokenize step's vocab: pretrained:${pretrained}`,
    );
  if (tokenizer.vocab.length > config.vocabSize)
    throw fail(`the tokenizer has ${tokenizer.vocab.length} tokens but ${pretrained} embeds only ${config.vocabSize}`);
  if (input.maxLength > config.maxLength)
    throw fail(
      `rows are padded to ${input.maxLength} tokens but ${pretrained} has ${config.maxLength} positions; set the pad step's max_length to at most ${config.maxLength}`,
    );
}

interface TrainingSetup {
  readonly tf: typeof Tf;
  readonly backend: string;
  readonly task: Task;
  readonly labels: readonly string[];
  readonly config: EncoderConfig;
  /** The pretrained checkpoint a first epoch starts from. */
  readonly checkpoint: BertCheckpoint | undefined;
}

async function trainWith(
  deps: ActivityDeps,
  input: TrainEpochInput,
  beats: KeptHeartbeat,
  setup: TrainingSetup,
): Promise<TrainEpochResult> {
  const { tf, backend, task, labels, config } = setup;
  const { settings } = input;
  const totalSteps = settings.epochs * input.batchesPerEpoch;
  const schedule = lrSchedule(settings, totalSteps);
  const key: JournalKey = {
    workflowId: input.run.workflowId,
    runId: input.run.runId,
    step: input.stepId,
    epoch: input.epoch,
  };
  const model = new EncoderModel(tf, config, task.head, settings.seed);
  let frozen: Set<string>;
  try {
    frozen = frozenThisEpoch(input, model);
  } catch (error) {
    model.dispose();
    throw error;
  }
  const objective = encoderObjective(tf, model, lossOptions(settings), frozen);
  // Frozen parameters get no optimizer state: the optimizer sees only the ones that train.
  const optimizer = new AdamW(tf, objective.params, adamWConfig(settings, [...objective.params.keys()], config.layers));
  try {
    const provenance = {
      workflowId: input.run.workflowId,
      runId: input.run.runId,
      step: input.stepId,
      activity: 'train',
    };
    const resumed = await resume(tf, deps, input, key, model, optimizer);
    // Pretrained parameters that stay frozen are stored once, as base weights the checkpoints refer to.
    let base: CheckpointBase | undefined = resumed?.base;
    if (!resumed && setup.checkpoint) {
      const load = loadPretrainedWeights(tf, model, setup.checkpoint);
      log.info(
        `fine-tuning ${settings.model.pretrained}: ${load.loaded.length} parameters from the checkpoint, freshly initialized: ${load.fresh.join(', ')}`,
      );
      if (frozen.size > 0) {
        const ref = await saveBaseWeights(deps.store, model, load.loaded, {
          ...provenance,
          sources: [setup.checkpoint.dir],
        });
        base = { sha256: ref.sha256, tensors: load.loaded };
      }
    }
    // Setting up a large model takes seconds: say the attempt is alive, keeping the last attempt's details.
    beats.beat(activityInfo().heartbeatDetails);
    // An earlier attempt finished the epoch but its result never reached the server (an outage):
    // its final checkpoint is the result, and nothing is trained again.
    if (resumed && resumed.position.epoch === input.epoch && resumed.position.batchInEpoch >= input.batchesPerEpoch)
      return finishedEarlier(resumed, backend);
    const start: TrainingPosition =
      resumed && resumed.position.epoch === input.epoch
        ? resumed.position
        : { step: optimizer.step, epoch: input.epoch, batchInEpoch: 0, seed: settings.seed, epochLossSum: 0 };
    const midEpoch = resumed && resumed.position.epoch === input.epoch ? resumed.position : undefined;
    if (midEpoch)
      log.info(`resuming epoch ${input.epoch + 1} at step ${midEpoch.step} (batch ${midEpoch.batchInEpoch})`);
    let newest: ArtifactRef | undefined = resumed?.ref;
    let written: ArtifactRef[] = [];
    let last: TrainHeartbeat | undefined;
    const outcome = await trainEpoch(
      tf,
      objective,
      optimizer,
      datasetBatches(deps.store, input.batches, (rows) => task.batch(rows, config.classes)),
      start,
      {
        schedule,
        checkpointEvery: settings.checkpoint_every,
        batches: input.batchesPerEpoch,
      },
      {
        signal: cancellationSignal(),
        onStep: (report) => {
          last = { ...report, totalSteps, ...(newest && { checkpoint: newest }) };
          beats.beat(last);
        },
        checkpoint: async (position, reason) => {
          const ref = await saveCheckpoint(deps.store, model, optimizer, position, {
            task: task.name,
            labels,
            ...(task.settingKeys && {
              taskSettings: Object.fromEntries(
                task.settingKeys.map((key) => [key, settings[key as keyof TrainSettings]]),
              ),
            }),
            ...(base && { base }),
            provenance: {
              ...provenance,
              parents: [input.batches.sha256, input.tokenizer.sha256, ...(input.resume ? [input.resume.sha256] : [])],
            },
          });
          newest = ref;
          // The final one too: a retry after a result lost on its way to the server finds it.
          await deps.journal.append(key, ref);
          if (reason === 'end') return;
          if (last) beats.beat({ ...last, checkpoint: ref });
          // Keep the two newest mid-epoch checkpoints: if the newest is damaged, the one before serves.
          written = [...written, ref];
          while (written.length > 2) await deps.store.remove(written.shift()!.sha256);
        },
      },
    ).catch((error: unknown) => {
      if (!cancellationSignal().aborted) throw error;
      // The workflow learns where training stopped and what was saved.
      const stoppedAt: TrainCancellation = {
        epoch: input.epoch + 1,
        step: optimizer.step,
        ...(newest && { checkpoint: newest }),
      };
      throw new CancelledFailure(`cancelled at epoch ${stoppedAt.epoch}, step ${stoppedAt.step}`, [stoppedAt]);
    });
    return {
      checkpoint: newest!,
      step: outcome.position.step,
      meanLoss: outcome.meanLoss,
      samplesPerSecond: outcome.seconds > 0 ? outcome.samples / outcome.seconds : 0,
      seconds: outcome.seconds,
      ...(midEpoch && { resumedAt: { step: midEpoch.step, batch: midEpoch.batchInEpoch } }),
      backend,
    };
  } finally {
    model.dispose();
    optimizer.dispose();
  }
}

/** The result of an epoch an earlier attempt trained to its end, from that attempt's final checkpoint. */
function finishedEarlier(resumed: { ref: ArtifactRef; position: TrainingPosition }, backend: string): TrainEpochResult {
  const { position, ref } = resumed;
  const last = activityInfo().heartbeatDetails as TrainHeartbeat | undefined;
  log.info(
    `epoch ${position.epoch + 1} was trained to its end by an earlier attempt (step ${position.step}); using its checkpoint`,
  );
  return {
    checkpoint: ref,
    step: position.step,
    meanLoss: position.batchInEpoch === 0 ? 0 : (position.epochLossSum ?? 0) / position.batchInEpoch,
    samplesPerSecond: last?.samplesPerSecond ?? 0,
    seconds: 0,
    resumedAt: { step: position.step, batch: position.batchInEpoch },
    backend,
  };
}

/**
 * Loads the newest usable checkpoint into the model: this epoch's (from the last heartbeat or the
 * journal), else the previous epoch's. A damaged one is logged and the next older one tried.
 */
async function resume(
  tf: typeof Tf,
  deps: ActivityDeps,
  input: TrainEpochInput,
  key: JournalKey,
  model: EncoderModel,
  optimizer: AdamW,
): Promise<{ ref: ArtifactRef; position: TrainingPosition; base: CheckpointBase | undefined } | undefined> {
  const fromHeartbeat = (activityInfo().heartbeatDetails as TrainHeartbeat | undefined)?.checkpoint;
  const candidates = [...(await deps.journal.list(key)), ...(fromHeartbeat ? [fromHeartbeat] : [])];
  const unique = [...new Map(candidates.map((c) => [c.sha256, c])).values()].sort((a, b) => stepOf(b) - stepOf(a));
  for (const ref of [...unique, ...(input.resume ? [input.resume] : [])]) {
    try {
      const file = await readCheckpoint(deps.store, ref);
      const position = restoreFrom(tf, file, model, optimizer);
      return { ref, position, base: file.manifest.base };
    } catch (error) {
      // The previous epoch's checkpoint was verified when it was committed; failing now is fatal.
      if (ref === input.resume) throw error;
      log.warn(
        `checkpoint ${ref.sha256.slice(0, 12)} (step ${stepOf(ref)}) is unusable, trying an older one: ${String(error)}`,
      );
    }
  }
  return undefined;
}

function stepOf(ref: ArtifactRef): number {
  return typeof ref.meta?.step === 'number' ? ref.meta.step : -1;
}
