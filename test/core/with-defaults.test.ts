import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TRAIN_CONTRACT } from '../../core/contracts/train';
import { withDefaults } from '../../core/with-defaults';

test('with: defaults fill nested objects without overriding what the step sets', () => {
  const settings = withDefaults(TRAIN_CONTRACT.with, { epochs: 7, model: { layers: 4 } });
  assert.equal(settings.epochs, 7);
  assert.equal(settings.batch_size, 32);
  const model = settings.model as Record<string, unknown>;
  assert.equal(model.layers, 4);
  assert.equal(model.hidden, 128);
  assert.equal((settings.optimizer as Record<string, unknown>).learning_rate, 0.001);
  assert.equal(settings.early_stopping, undefined, 'an optional object without a default stays off');
  const stopping = withDefaults(TRAIN_CONTRACT.with, { early_stopping: {} }).early_stopping;
  assert.deepEqual(stopping, { patience: 2, min_delta: 0 });
});
