import { asRecord } from './as-record';
import { TRAIN_CONTRACT } from '../core/contracts/train';
import type { Reporter, StepLookup } from './step-lookup';
import { withDefaults } from '../core/with-defaults';

/**
 * Checks what can be known of a train step's `freeze` and `unfreeze_at_epoch` before a model
 * exists: a range runs upwards, a from-scratch model has the layers named and no pooler, and
 * gradual unfreezing has something frozen to unfreeze within the epochs trained. (Against a
 * pretrained checkpoint's layer count the train step checks the patterns when it starts.)
 */
export function checkFreeze(steps: StepLookup, ids: Iterable<string>, report: Reporter): void {
  const { uses, withOf, at } = steps;
  for (const id of ids) {
    if (uses(id) !== 'train') continue;
    const given = withOf(id);
    const settings = withDefaults(TRAIN_CONTRACT.with, given);
    const model = asRecord(settings.model) ?? {};
    const scratch = model.pretrained === undefined;
    const freeze = Array.isArray(given.freeze) ? given.freeze : [];
    freeze.forEach((pattern, index) => {
      if (typeof pattern !== 'string') return;
      const range = /^layers\.(\d+)(?:-(\d+))?$/.exec(pattern);
      const from = Number(range?.[1]);
      const to = range?.[2] === undefined ? from : Number(range[2]);
      if (range && to < from)
        report(
          'BAD_FREEZE',
          at(id, 'with', 'freeze', index),
          `step "${id}": freeze range ${pattern} runs downwards; write layers.${to}-${from}`,
        );
      else if (range && scratch && typeof model.layers === 'number' && to >= model.layers)
        report(
          'BAD_FREEZE',
          at(id, 'with', 'freeze', index),
          `step "${id}": freeze ${pattern} names a layer the model lacks: it has ${model.layers} (layers.0-${model.layers - 1})`,
        );
      else if (pattern === 'pooler' && (scratch || settings.task !== 'classification' || model.pooling !== 'first'))
        report(
          'BAD_FREEZE',
          at(id, 'with', 'freeze', index),
          `step "${id}": freeze pooler matches nothing: only a pretrained BERT classifier pooling the first token has a pooler`,
        );
    });
    const unfreezeAt = given.unfreeze_at_epoch;
    if (typeof unfreezeAt !== 'number') continue;
    if (freeze.length === 0)
      report(
        'BAD_FREEZE',
        at(id, 'with', 'unfreeze_at_epoch'),
        `step "${id}": unfreeze_at_epoch has nothing to unfreeze; add freeze: [...] or remove it`,
        true,
      );
    else if (typeof settings.epochs === 'number' && unfreezeAt > settings.epochs)
      report(
        'BAD_FREEZE',
        at(id, 'with', 'unfreeze_at_epoch'),
        `step "${id}": unfreeze_at_epoch ${unfreezeAt} comes after the last epoch (${settings.epochs}), so the frozen groups never train; lower it or raise epochs`,
      );
  }
}
