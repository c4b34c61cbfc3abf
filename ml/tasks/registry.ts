import type { TrainTask } from '../../core/metrics';
import { classification } from './classification';
import { questionAnswering } from './question-answering';
import { seq2seq } from './seq2seq';
import type { Task } from './task';
import { tokenClassification } from './token-classification';

/** Every task a `train` step can learn, by the name its `task:` key gives. */
const TASKS: Readonly<Record<TrainTask, Task>> = {
  classification,
  token_classification: tokenClassification,
  question_answering: questionAnswering,
  seq2seq,
};

/** The task a `train` step (or a checkpoint's manifest) names; checkpoints from before tasks were named are classifiers. */
export function taskNamed(name: TrainTask | undefined): Task {
  return TASKS[name ?? 'classification'];
}
