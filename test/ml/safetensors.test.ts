import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { SafetensorsFile, writeSafetensors } from '../../ml/pretrained/safetensors';

const dir = mkdtempSync(join(tmpdir(), 'pipewright-safetensors-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;

/** A file of this raw header (JSON-encoded unless a string) followed by `data`. */
function craft(header: unknown, data: Buffer = Buffer.alloc(0), claimedLength?: bigint): string {
  const json = Buffer.from(typeof header === 'string' ? header : JSON.stringify(header), 'utf8');
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(claimedLength ?? BigInt(json.length));
  const path = join(dir, `crafted-${++files}.safetensors`);
  writeFileSync(path, Buffer.concat([length, json, data]));
  return path;
}

test('float32 tensors written are read back bit for bit, with their shapes and metadata', () => {
  const path = join(dir, 'roundtrip.safetensors');
  const a = Float32Array.from([1.5, -2.25, Math.PI, 1e-30, -0, 3.4e38]);
  const b = Float32Array.from({ length: 12 }, (_, i) => i / 7);
  writeSafetensors(
    path,
    [
      { name: 'a', shape: [2, 3], values: a },
      { name: 'layer.b', shape: [12], values: b },
    ],
    { format: 'pt' },
  );
  const file = SafetensorsFile.open(path);
  try {
    assert.deepEqual(file.metadata, { format: 'pt' });
    assert.deepEqual(file.entry('a').shape, [2, 3]);
    assert.deepEqual(file.floats('a'), a);
    assert.deepEqual(file.floats('layer.b'), b);
    assert.throws(() => file.floats('c'), /holds no tensor "c"/);
  } finally {
    file.close();
  }
});

test('F16 and BF16 values widen exactly; I64 reads as integers', () => {
  const data = Buffer.alloc(8 + 8 + 16);
  // F16: 1, -2, 0.5, 65504 (the largest half), as bit patterns.
  [0x3c00, 0xc000, 0x3800, 0x7bff].forEach((bits, i) => data.writeUInt16LE(bits, 2 * i));
  // BF16: the upper halves of float32 1.5, -3.0, 0.15625, 256.
  [0x3fc0, 0xc040, 0x3e20, 0x4380].forEach((bits, i) => data.writeUInt16LE(bits, 8 + 2 * i));
  data.writeBigInt64LE(-7n, 16);
  data.writeBigInt64LE(511n, 24);
  const path = craft(
    {
      half: { dtype: 'F16', shape: [4], data_offsets: [0, 8] },
      brain: { dtype: 'BF16', shape: [2, 2], data_offsets: [8, 16] },
      ids: { dtype: 'I64', shape: [1, 2], data_offsets: [16, 32] },
    },
    data,
  );
  const file = SafetensorsFile.open(path);
  try {
    assert.deepEqual([...file.floats('half')], [1, -2, 0.5, 65504]);
    assert.deepEqual([...file.floats('brain')], [1.5, -3, 0.15625, 256]);
    assert.deepEqual(file.integers('ids'), [-7, 511]);
    assert.throws(() => file.floats('ids'), /holds I64, not floating-point/);
    assert.throws(() => file.integers('half'), /holds F16, not I64/);
  } finally {
    file.close();
  }
});

test('truncated, oversized and malicious files are refused with what is wrong, before any tensor is read', () => {
  const tensor = { dtype: 'F32', shape: [2], data_offsets: [0, 8] };
  const cases: [string, string, RegExp][] = [
    ['length beyond the file', craft({ t: tensor }, Buffer.alloc(8), 1n << 40n), /header claims/],
    ['length beyond the rest', craft({ t: tensor }, Buffer.alloc(8), 500n), /claims 500 bytes but the file has/],
    ['header not JSON', craft('{"t": ', Buffer.alloc(8)), /header is not JSON/],
    ['header a list', craft([1, 2]), /not a JSON object/],
    ['unknown dtype', craft({ t: { ...tensor, dtype: 'C64' } }, Buffer.alloc(8)), /dtype "C64"; readable are F32/],
    ['bad shape', craft({ t: { ...tensor, shape: [-1] } }, Buffer.alloc(8)), /shape \[-1\]/],
    ['offsets past the end', craft({ t: { ...tensor, data_offsets: [0, 4096] } }, Buffer.alloc(8)), /spans bytes/],
    ['offsets reversed', craft({ t: { ...tensor, data_offsets: [8, 0] } }, Buffer.alloc(8)), /spans bytes 8–0/],
    [
      'shape disagreeing with offsets',
      craft({ t: { ...tensor, shape: [3] } }, Buffer.alloc(8)),
      /needs 12 bytes but spans 8/,
    ],
    [
      'overlapping tensors',
      craft({ t: tensor, u: { ...tensor, data_offsets: [4, 12] } }, Buffer.alloc(12)),
      /"t" and "u" overlap/,
    ],
    ['metadata not strings', craft({ __metadata__: { n: 1 } }), /__metadata__ is not an object of strings/],
  ];
  for (const [what, path, message] of cases) {
    assert.throws(() => SafetensorsFile.open(path), { name: 'SafetensorsError', message }, what);
  }
  const tiny = join(dir, 'tiny.safetensors');
  writeFileSync(tiny, Buffer.alloc(5));
  assert.throws(() => SafetensorsFile.open(tiny), /has 5 bytes, fewer than the 8 of the header length/);
  assert.throws(() => SafetensorsFile.open(join(dir, 'absent.safetensors')), /cannot open .*absent/);
});

test('a file cut short after it was opened is an error on read, not garbage', () => {
  const path = join(dir, 'cut.safetensors');
  writeSafetensors(path, [{ name: 'w', shape: [1000], values: new Float32Array(1000).fill(1) }]);
  const file = SafetensorsFile.open(path);
  try {
    truncateSync(path, 2000);
    assert.throws(() => file.floats('w'), /"w" was cut short/);
  } finally {
    file.close();
  }
});
