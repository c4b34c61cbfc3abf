import type { Command } from 'commander';
import { PretrainedError } from '../../ml/pretrained/bert-checkpoint';
import { exportHuggingFace } from '../../ml/pretrained/huggingface-export';
import { loadTokenizer } from '../../ml/tokenizers/tokenizer-file';
import { readCheckpoint } from '../../ml/train/checkpoint';
import type { ArtifactRef } from '../../core/artifacts';
import type { FileArtifactStore } from '../../store/artifact-store';
import { resolveArtifact } from '../../store/lineage';
import type { ModelRegistry } from '../../store/model-registry';
import { loadConfig } from '../../worker/config';
import { openLocalState } from '../../worker/local-state';
import { UserError } from '../user-error';

const FORMATS = ['huggingface'] as const;

/**
 * The checkpoint and tokenizer a target names: a registered model (`name`, its deployed version,
 * or `name@version`), else a checkpoint artifact by digest, whose tokenizer is the one among its
 * parents.
 */
async function exportSource(
  target: string,
  registry: ModelRegistry,
  store: FileArtifactStore,
): Promise<{ checkpoint: ArtifactRef; tokenizer: ArtifactRef; what: string }> {
  const [name, version] = target.split('@') as [string, string | undefined];
  if ((await registry.names()).includes(name)) {
    if (version !== undefined && !/^\d+$/.test(version))
      throw new UserError(`"${target}": a version is a number, as in ${name}@3`, 2);
    const found = version === undefined ? await registry.current(name) : await registry.version(name, Number(version));
    if (!found) throw new UserError(`model "${name}" has no deployed version; name one as ${name}@<version>`, 2);
    return { checkpoint: found.checkpoint, tokenizer: found.tokenizer, what: `${name} version ${found.version}` };
  }
  let artifacts;
  let checkpoint;
  try {
    artifacts = await store.list();
    checkpoint = resolveArtifact(artifacts, target);
  } catch (error) {
    throw new UserError(`no registered model is called "${name}", and ${(error as Error).message}`, 2);
  }
  if (checkpoint.kind !== 'checkpoint')
    throw new UserError(`artifact ${checkpoint.sha256.slice(0, 12)} is a ${checkpoint.kind}, not a checkpoint`, 2);
  const parents = new Set(checkpoint.provenance.parents ?? []);
  const tokenizer = artifacts.find((a) => a.kind === 'tokenizer' && parents.has(a.sha256));
  if (!tokenizer)
    throw new UserError(`checkpoint ${checkpoint.sha256.slice(0, 12)} names no tokenizer among its parents`, 2);
  return { checkpoint, tokenizer, what: `checkpoint ${checkpoint.sha256.slice(0, 12)}` };
}

export function registerExport(program: Command): void {
  program
    .command('export')
    .description('Write a trained model in another ecosystem’s format (a Hugging Face checkpoint directory)')
    .argument('<model>', 'a registered model (name, or name@version), or a checkpoint’s sha256 (or a unique start)')
    .argument('<dir>', 'the directory to write (created if missing)')
    .option('--format <format>', `the format: ${FORMATS.join(', ')}`, 'huggingface')
    .action(async (target: string, dir: string, options: { format: string }) => {
      if (!(FORMATS as readonly string[]).includes(options.format))
        throw new UserError(`--format ${options.format} is not supported; supported: ${FORMATS.join(', ')}`, 2);
      const { registry, store } = openLocalState(loadConfig());
      const source = await exportSource(target, registry, store);
      try {
        const written = exportHuggingFace(
          await readCheckpoint(store, source.checkpoint),
          await loadTokenizer(store, source.tokenizer),
          dir,
        );
        process.stdout.write(
          `${source.what} → ${written.dir} (${written.architecture}): ${written.files.join(', ')}\n` +
            `load it with transformers: AutoModelFor${written.architecture.replace(/^BertFor/, '')}.from_pretrained(${JSON.stringify(written.dir)}) and AutoTokenizer.from_pretrained(${JSON.stringify(written.dir)})\n`,
        );
      } catch (error) {
        if (error instanceof PretrainedError) throw new UserError(`cannot export ${source.what}: ${error.message}`, 2);
        throw error;
      }
    });
}
