import type * as Tf from '@tensorflow/tfjs';
import { dirname, join } from 'node:path';

export const BACKEND_CHOICES = ['auto', 'tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'] as const;
export type BackendChoice = (typeof BACKEND_CHOICES)[number];
type Backend = Exclude<BackendChoice, 'auto'>;

/** The TensorFlow.js namespace with the chosen backend active, and why faster ones were passed over. */
export interface LoadedBackend {
  readonly tf: typeof Tf;
  readonly backend: Backend;
  readonly skipped: readonly { readonly backend: Backend; readonly reason: string }[];
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
      return { tf: await activate(backend), backend, skipped };
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

function requireModule<T = typeof Tf>(name: string): T {
  // Backends are optional packages loaded on demand; a static import would make them all mandatory.
  return module.require(name) as T;
}

function firstLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  if (/Cannot find module/.test(message)) return 'not installed';
  return message.split('\n')[0]!;
}
