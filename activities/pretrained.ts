import { log } from '@temporalio/activity';
import { resolveDataPath } from '../data/resolve-data-path';
import { fetchPretrained, PRETRAINED_CATALOG, toolsFetchOptions } from '../ml/pretrained/catalog';
import type { ActivityDeps } from './deps';

/** How a tokenize step's `vocab` names a pretrained checkpoint's vocabulary. */
export const PRETRAINED_VOCAB_PREFIX = 'pretrained:';

/**
 * The directory of the pretrained checkpoint a step names: a catalog name (fetched into
 * .tools/models the first time a pipeline asks for it) or a Hugging Face checkpoint directory,
 * relative to the pipeline or a data root like any path a pipeline reads.
 */
export function pretrainedDirectory(reference: string, pipelineDir: string | undefined, deps: ActivityDeps): string {
  if (reference in PRETRAINED_CATALOG)
    return fetchPretrained(
      reference,
      toolsFetchOptions(deps.toolsDir, (line) => {
        log.info(line);
      }),
    );
  return resolveDataPath(reference, pipelineDir, deps.dataRoots);
}
