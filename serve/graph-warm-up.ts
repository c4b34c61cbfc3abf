import type * as Tf from '@tensorflow/tfjs';
import { IncrementalDecoder } from '../ml/generation/incremental-decoder';
import { graphsAvailable, runInferenceGraph, runMemoryGraph, smallGraphsServe } from '../ml/graph/graph-runner';
import type { EncoderModel } from '../ml/models/encoder-model';

/**
 * Builds, loads and runs once, on one token, every TensorFlow graph that serving `model` calls,
 * so that no request waits for it: a graph's first call costs about 100 ms (building it, loading
 * it into a session, TensorFlow's first run). Encoders: the inference graphs for small calls and
 * the rest; encoder-decoders: the source's memory graphs and the decoding step. Does nothing
 * where the model does not run as graphs.
 */
export function warmUpGraphs(tf: typeof Tf, model: EncoderModel): void {
  if (!graphsAvailable(tf)) return;
  const small = smallGraphsServe();
  const padId = 0;
  tf.tidy(() => {
    const feeds = { ids: tf.fill<Tf.Rank.R2>([1, 1], padId, 'int32'), mask: tf.ones<Tf.Rank.R2>([1, 1]) };
    if (model.config.decoderLayers === undefined) {
      runInferenceGraph(tf, model, feeds, 'infer');
      if (small) runInferenceGraph(tf, model, feeds, 'infer-small');
      return;
    }
    runMemoryGraph(tf, model, feeds, 'memory');
    if (small) runMemoryGraph(tf, model, feeds, 'memory-small');
  });
  if (model.config.decoderLayers === undefined) return;
  const decoder = new IncrementalDecoder(tf, model, [[padId]], padId);
  try {
    decoder.step([padId]).dispose();
  } finally {
    decoder.dispose();
  }
}
