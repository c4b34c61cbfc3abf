import type * as Tf from '@tensorflow/tfjs';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';

export const BACKEND_CHOICES = ['auto', 'tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'] as const;
export type BackendChoice = (typeof BACKEND_CHOICES)[number];
type Backend = Exclude<BackendChoice, 'auto'>;

/** The TensorFlow.js namespace with the chosen backend active, and why faster ones were passed over. */
export interface LoadedBackend {
  readonly tf: typeof Tf;
  readonly backend: Backend;
  readonly skipped: readonly { readonly backend: Backend; readonly reason: string }[];
  /** Where TensorFlow runs the ops: a CUDA GPU only when tfjs-node-gpu found one. */
  readonly device: 'gpu' | 'cpu';
}

/** The requested backend cannot be used; the message says why. */
export class BackendUnavailableError extends Error {
  override name = 'BackendUnavailableError';
}

const ORDER: Backend[] = ['tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'];

let loaded: Promise<LoadedBackend> | undefined;

/**
 * Chooses the TensorFlow.js backend once per process: `auto` takes the first that works of
 * tfjs-node-gpu (CUDA), tfjs-node (native CPU), wasm and plain JavaScript. PIPEWRIGHT_TF_BACKEND
 * (or `choice`) forces one, failing clearly if it cannot load.
 */
export function loadBackend(choice: string = process.env.PIPEWRIGHT_TF_BACKEND ?? 'auto'): Promise<LoadedBackend> {
  loaded ??= load(choice);
  return loaded;
}

/**
 * How many threads TensorFlow gives one op (its intra-op pool; 0: one per core, its default). Read
 * when the native backend loads, so it must come first. Latency-bound serving of small models gains
 * from 1: the threads cost more than they give on ops this small, and the HTTP side keeps a core.
 */
export function setIntraOpThreads(threads: number): void {
  if (loaded) throw new Error('the TensorFlow.js backend is already loaded: set its threads before loading it');
  process.env.TF_NUM_INTRAOP_THREADS = String(threads);
}

/** The threads TensorFlow gives one op: TF_NUM_INTRAOP_THREADS, or (unset or 0) one per core. */
export function intraOpThreads(): number {
  return Number(process.env.TF_NUM_INTRAOP_THREADS) || availableParallelism();
}

async function load(choice: string): Promise<LoadedBackend> {
  if (!(BACKEND_CHOICES as readonly string[]).includes(choice)) {
    throw new BackendUnavailableError(
      `unknown TensorFlow.js backend "${choice}"; choose one of ${BACKEND_CHOICES.join(', ')}`,
    );
  }
  process.env.TF_CPP_MIN_LOG_LEVEL ??= '2';
  const candidates = choice === 'auto' ? ORDER : [choice as Backend];
  const skipped: { backend: Backend; reason: string }[] = [];
  for (const backend of candidates) {
    try {
      const tf = await activate(backend);
      return { tf, backend, skipped, device: backend === 'tensorflow-gpu' && usesGpu(tf) ? 'gpu' : 'cpu' };
    } catch (error) {
      const reason = firstLine(error);
      if (choice !== 'auto')
        throw new BackendUnavailableError(`TensorFlow.js backend ${backend} is not available: ${reason}`);
      skipped.push({ backend, reason });
    }
  }
  throw new BackendUnavailableError(
    `no TensorFlow.js backend loads: ${skipped.map((s) => `${s.backend}: ${s.reason}`).join('; ')}`,
  );
}

async function activate(backend: Backend): Promise<typeof Tf> {
  switch (backend) {
    case 'tensorflow-gpu':
      return withBackend(requireModule('@tensorflow/tfjs-node-gpu'), 'tensorflow');
    case 'tensorflow':
      return withBackend(requireModule('@tensorflow/tfjs-node'), 'tensorflow');
    case 'wasm': {
      const tf = requireModule('@tensorflow/tfjs');
      const wasm = requireModule<{ setWasmPaths(prefix: string): void }>('@tensorflow/tfjs-backend-wasm');
      wasm.setWasmPaths(join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist') + '/');
      return withBackend(tf, 'wasm');
    }
    case 'cpu':
      return withBackend(requireModule('@tensorflow/tfjs'), 'cpu');
  }
}

async function withBackend(tf: typeof Tf, name: string): Promise<typeof Tf> {
  if (!(await tf.setBackend(name))) throw new Error(`tf.setBackend('${name}') failed`);
  await tf.ready();
  tf.tidy(() => tf.add(tf.scalar(1), tf.scalar(1)).dataSync());
  return tf;
}

/** Whether the native backend runs on a CUDA device (TensorFlow's GPU build falls back to its CPU without one). */
function usesGpu(tf: typeof Tf): boolean {
  return (tf.backend() as { isUsingGpuDevice?: boolean }).isUsingGpuDevice === true;
}

/**
 * What a worker that serves GPU steps says of its backend: the GPU it trains on, or that it found
 * none, why, and what it trains on instead.
 */
export function gpuReport({ backend, skipped, device }: LoadedBackend): string {
  if (device === 'gpu') return 'GPU steps train on a CUDA GPU (tfjs-node-gpu)';
  const gpu = skipped.find((s) => s.backend === 'tensorflow-gpu');
  const why =
    backend === 'tensorflow-gpu'
      ? 'tfjs-node-gpu loaded, but TensorFlow found no CUDA device (no GPU, or no driver)'
      : gpu?.reason === 'not installed'
        ? 'tfjs-node-gpu is not installed (`pipewright setup --gpu` installs it)'
        : `tfjs-node-gpu did not load: ${gpu?.reason ?? 'not tried'}`;
  const instead = backend === 'tensorflow-gpu' ? 'TensorFlow on the CPU' : `the ${backend} backend on the CPU`;
  return `no usable GPU: ${why}; GPU steps train on ${instead} instead`;
}

function requireModule<T = typeof Tf>(name: string): T {
  // Backends are optional packages loaded on demand; a static import would make them all mandatory.
  return module.require(name) as T;
}

function firstLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  if (/Cannot find module/.test(message)) return 'not installed';
  return message.split('\n')[0]!;
}
