import { closeSync, fstatSync, openSync, readSync, writeFileSync } from 'node:fs';
import { failureClass } from '../../core/failures';

/** Element types a tensor in a safetensors file may have here, with their sizes in bytes. */
const DTYPE_BYTES = { F32: 4, F16: 2, BF16: 2, I64: 8 } as const;
export type SafetensorsDtype = keyof typeof DTYPE_BYTES;

/** Headers larger than this are refused before they are read: real ones are kilobytes. */
const MAX_HEADER_BYTES = 100 * 1024 * 1024;

/** A safetensors file that cannot be read as one; the message names the file and what is wrong. */
export class SafetensorsError extends failureClass('SafetensorsError') {}

export interface SafetensorsEntry {
  readonly name: string;
  readonly dtype: SafetensorsDtype;
  readonly shape: readonly number[];
  /** Byte offsets into the data that follows the header, end exclusive. */
  readonly begin: number;
  readonly end: number;
}

/** A float32 tensor to write. */
export interface NamedTensor {
  readonly name: string;
  readonly shape: readonly number[];
  readonly values: Float32Array;
}

/**
 * A safetensors file (8-byte little-endian header length, a JSON header of tensors' dtypes, shapes
 * and data offsets, then the data), checked in full when opened: every entry's offsets lie inside
 * the file, match its shape and dtype, and no two overlap. Tensors are read one at a time, so a
 * file is never held in memory whole.
 */
export class SafetensorsFile {
  readonly entries: ReadonlyMap<string, SafetensorsEntry>;
  readonly metadata: Readonly<Record<string, string>>;

  private constructor(
    readonly path: string,
    private readonly fd: number,
    private readonly dataStart: number,
    entries: Map<string, SafetensorsEntry>,
    metadata: Record<string, string>,
  ) {
    this.entries = entries;
    this.metadata = metadata;
  }

  static open(path: string): SafetensorsFile {
    let fd: number;
    try {
      fd = openSync(path, 'r');
    } catch (error) {
      throw new SafetensorsError(`cannot open ${path}: ${(error as Error).message}`);
    }
    try {
      const size = fstatSync(fd).size;
      const fail = (what: string) => new SafetensorsError(`${path} is not a valid safetensors file: ${what}`);
      if (size < 8) throw fail(`it has ${size} bytes, fewer than the 8 of the header length`);
      const lengthBytes = Buffer.alloc(8);
      readSync(fd, lengthBytes, 0, 8, 0);
      const headerLength = Number(lengthBytes.readBigUInt64LE(0));
      if (headerLength > MAX_HEADER_BYTES) throw fail(`its header claims ${headerLength} bytes`);
      if (8 + headerLength > size)
        throw fail(`its header claims ${headerLength} bytes but the file has ${size - 8} after the length`);
      const headerBytes = Buffer.alloc(headerLength);
      readSync(fd, headerBytes, 0, headerLength, 8);
      let header: unknown;
      try {
        header = JSON.parse(headerBytes.toString('utf8'));
      } catch (error) {
        throw fail(`its header is not JSON (${(error as Error).message})`);
      }
      const { entries, metadata } = parseHeader(header, size - 8 - headerLength, fail);
      return new SafetensorsFile(path, fd, 8 + headerLength, entries, metadata);
    } catch (error) {
      closeSync(fd);
      throw error;
    }
  }

  /** The entry called `name`; a clear error naming the file when there is none. */
  entry(name: string): SafetensorsEntry {
    const entry = this.entries.get(name);
    if (!entry) throw new SafetensorsError(`${this.path} holds no tensor "${name}"`);
    return entry;
  }

  /** A floating-point tensor's values as float32 (F16 and BF16 widened exactly). */
  floats(name: string): Float32Array {
    const entry = this.entry(name);
    const count = (entry.end - entry.begin) / DTYPE_BYTES[entry.dtype];
    const out = new Float32Array(count);
    // Little-endian float32 is the file's layout and the machine's, so the bytes go straight in.
    if (entry.dtype === 'F32') {
      this.readInto(entry, new Uint8Array(out.buffer));
      return out;
    }
    const bytes = Buffer.alloc(entry.end - entry.begin);
    this.readInto(entry, bytes);
    if (entry.dtype === 'BF16') {
      // bfloat16 is the upper half of a float32.
      const wide = new Uint32Array(out.buffer);
      for (let i = 0; i < count; i++) wide[i] = bytes.readUInt16LE(2 * i) << 16;
    } else if (entry.dtype === 'F16') {
      for (let i = 0; i < count; i++) out[i] = halfToFloat(bytes.readUInt16LE(2 * i));
    } else {
      throw new SafetensorsError(`${this.path}: tensor "${name}" holds ${entry.dtype}, not floating-point values`);
    }
    return out;
  }

  /** An I64 tensor's values, each within ±2⁵³. */
  integers(name: string): number[] {
    const entry = this.entry(name);
    if (entry.dtype !== 'I64')
      throw new SafetensorsError(`${this.path}: tensor "${name}" holds ${entry.dtype}, not I64 values`);
    const bytes = Buffer.alloc(entry.end - entry.begin);
    this.readInto(entry, bytes);
    const out: number[] = [];
    for (let i = 0; i < bytes.length; i += 8) {
      const value = bytes.readBigInt64LE(i);
      if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < BigInt(Number.MIN_SAFE_INTEGER))
        throw new SafetensorsError(`${this.path}: tensor "${name}" holds ${value}, too large to use`);
      out.push(Number(value));
    }
    return out;
  }

  close(): void {
    closeSync(this.fd);
  }

  private readInto(entry: SafetensorsEntry, bytes: Uint8Array): void {
    const length = entry.end - entry.begin;
    const read = readSync(this.fd, bytes, 0, length, this.dataStart + entry.begin);
    if (read !== length)
      throw new SafetensorsError(`${this.path}: tensor "${entry.name}" was cut short (${read} of ${length} bytes)`);
  }
}

function parseHeader(
  header: unknown,
  dataBytes: number,
  fail: (what: string) => SafetensorsError,
): { entries: Map<string, SafetensorsEntry>; metadata: Record<string, string> } {
  if (typeof header !== 'object' || header === null || Array.isArray(header))
    throw fail('its header is not a JSON object');
  const entries = new Map<string, SafetensorsEntry>();
  let metadata: Record<string, string> = {};
  for (const [name, value] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (typeof value !== 'object' || value === null || Object.values(value).some((v) => typeof v !== 'string'))
        throw fail('its __metadata__ is not an object of strings');
      metadata = value as Record<string, string>;
      continue;
    }
    const v = value as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (typeof v !== 'object' || v === null) throw fail(`tensor "${name}" is not described by an object`);
    if (typeof v.dtype !== 'string' || !(v.dtype in DTYPE_BYTES))
      throw fail(
        `tensor "${name}" has dtype ${JSON.stringify(v.dtype)}; readable are ${Object.keys(DTYPE_BYTES).join(', ')}`,
      );
    const dtype = v.dtype as SafetensorsDtype;
    if (!Array.isArray(v.shape) || !v.shape.every((d) => Number.isSafeInteger(d) && d >= 0))
      throw fail(`tensor "${name}" has shape ${JSON.stringify(v.shape)}, not a list of sizes`);
    const offsets = v.data_offsets;
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isSafeInteger(o) && o >= 0))
      throw fail(`tensor "${name}" has data_offsets ${JSON.stringify(offsets)}, not [begin, end]`);
    const [begin, end] = offsets as [number, number];
    if (begin > end || end > dataBytes)
      throw fail(`tensor "${name}" spans bytes ${begin}–${end} of a data section of ${dataBytes}`);
    const shape = v.shape as number[];
    const expected = shape.reduce((a, d) => a * d, 1) * DTYPE_BYTES[dtype];
    if (end - begin !== expected)
      throw fail(
        `tensor "${name}" (${dtype} ${JSON.stringify(shape)}) needs ${expected} bytes but spans ${end - begin}`,
      );
    entries.set(name, { name, dtype, shape, begin, end });
  }
  const sorted = [...entries.values()].sort((a, b) => a.begin - b.begin);
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i]!.begin < sorted[i - 1]!.end)
      throw fail(`tensors "${sorted[i - 1]!.name}" and "${sorted[i]!.name}" overlap`);
  }
  return { entries, metadata };
}

/** An IEEE half-precision bit pattern as a number. */
function halfToFloat(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24;
  if (exponent === 0x1f) return fraction ? NaN : sign * Infinity;
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
}

/** Writes float32 tensors as a safetensors file, in the given order, the header padded to 8 bytes. */
export function writeSafetensors(
  path: string,
  tensors: readonly NamedTensor[],
  metadata: Readonly<Record<string, string>> = {},
): void {
  const header: Record<string, unknown> = { __metadata__: metadata };
  let offset = 0;
  for (const t of tensors) {
    const count = t.shape.reduce((a, d) => a * d, 1);
    if (count !== t.values.length)
      throw new SafetensorsError(
        `tensor "${t.name}" has ${t.values.length} values for shape ${JSON.stringify(t.shape)}`,
      );
    header[t.name] = { dtype: 'F32', shape: t.shape, data_offsets: [offset, offset + 4 * count] };
    offset += 4 * count;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (Buffer.byteLength(json) % 8)) % 8);
  const headerBytes = Buffer.from(json, 'utf8');
  const out = Buffer.alloc(8 + headerBytes.length + offset);
  out.writeBigUInt64LE(BigInt(headerBytes.length), 0);
  headerBytes.copy(out, 8);
  let at = 8 + headerBytes.length;
  for (const t of tensors) {
    Buffer.from(t.values.buffer, t.values.byteOffset, t.values.byteLength).copy(out, at);
    at += t.values.byteLength;
  }
  writeFileSync(path, out);
}
