import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { readSource, type SourceFormat } from '../../data/read-source';
import { resolveDataPath } from '../../data/resolve-data-path';

const dir = mkdtempSync(join(tmpdir(), 'pipewright-source-'));
after(() => rmSync(dir, { recursive: true, force: true }));

async function read(name: string, content: string | Buffer, format: SourceFormat) {
  const path = join(dir, name);
  writeFileSync(path, content);
  const out = [];
  for await (const record of readSource(path, format, name)) out.push(record);
  return out;
}

describe('source readers', () => {
  test('JSON Lines: skips blank lines, keeps line numbers, handles CRLF and a BOM', async () => {
    const records = await read('a.jsonl', '\ufeff{"text":"a"}\r\n\r\n{"text":"b","n":1}', 'jsonl');
    assert.deepEqual(records, [
      { line: 1, record: { text: 'a' } },
      { line: 3, record: { text: 'b', n: 1 } },
    ]);
  });

  test('JSON Lines: a bad line is reported with file and line', async () => {
    await assert.rejects(read('b.jsonl', '{"a":1}\n{"a":\n', 'jsonl'), /^SourceDataError: b\.jsonl:2: invalid JSON/);
    await assert.rejects(read('c.jsonl', '{"a":1}\n[1,2]\n', 'jsonl'), /c\.jsonl:2: each line must be a JSON object/);
    const latin1 = Buffer.concat([Buffer.from('{"t":"ok"}\n{"t":"caf'), Buffer.from([0xe9]), Buffer.from('"}\n')]);
    await assert.rejects(read('d.jsonl', latin1, 'jsonl'), /d\.jsonl:2: invalid UTF-8: convert the file to UTF-8/);
  });

  test('a line over max_record_bytes is set aside by size, streamed past without holding it, or fails the read', async () => {
    const huge = `{"text":"${'x'.repeat(5 * 1024 * 1024)}"}`;
    const path = join(dir, 'long.jsonl');
    writeFileSync(path, ['{"text":"a"}', huge, '{"text":"b"}', huge].join('\n'));
    const bad: { line: number; problem: string }[] = [];
    const records = [];
    for await (const r of readSource(path, 'jsonl', 'long.jsonl', (b) => bad.push(b), 1024 * 1024)) records.push(r);
    assert.deepEqual(records, [
      { line: 1, record: { text: 'a' } },
      { line: 3, record: { text: 'b' } },
    ]);
    const problem = `the line is ${huge.length} bytes, over max_record_bytes (1048576): set with.max_record_bytes higher to read it`;
    assert.deepEqual(
      bad.map((b) => [b.line, b.problem]),
      [
        [2, problem],
        [4, problem],
      ],
      'the last line too, though no newline ends it',
    );
    const strict = async () => {
      let count = 0;
      for await (const record of readSource(path, 'jsonl', 'long.jsonl', undefined, 1024 * 1024)) count += record.line;
      return count;
    };
    await assert.rejects(strict(), /^SourceDataError: long\.jsonl:2: the line is \d+ bytes, over max_record_bytes/);

    const csv = join(dir, 'long.csv');
    writeFileSync(csv, `text,label\nshort,A\n"${'y'.repeat(2000)}",B\nlast,C\n`);
    const csvBad: number[] = [];
    const rows = [];
    for await (const r of readSource(csv, 'csv', 'long.csv', (b) => csvBad.push(b.line), 1000)) rows.push(r.record);
    assert.deepEqual(rows, [
      { text: 'short', label: 'A' },
      { text: 'last', label: 'C' },
    ]);
    assert.deepEqual(csvBad, [3]);
  });

  test('CSV: quoted delimiters, escaped quotes and newlines inside quotes', async () => {
    const records = await read('e.csv', 'text,label\n"a, b",X\n"say ""hi""",Y\n"two\nlines",Z\n', 'csv');
    assert.deepEqual(records, [
      { line: 2, record: { text: 'a, b', label: 'X' } },
      { line: 3, record: { text: 'say "hi"', label: 'Y' } },
      { line: 4, record: { text: 'two\nlines', label: 'Z' } },
    ]);
    await assert.rejects(read('f.csv', 'a,b\n1,2,3\n', 'csv'), /f\.csv:2: has 3 fields, but the header has 2/);
    await assert.rejects(read('g.csv', 'a,b\n"open,2\n', 'csv'), /g\.csv:2: a quoted field is never closed/);
  });

  test('TSV and JSON arrays', async () => {
    assert.deepEqual(await read('h.tsv', 'text\tlabel\nhello there\tA\n', 'tsv'), [
      { line: 2, record: { text: 'hello there', label: 'A' } },
    ]);
    assert.deepEqual(await read('i.json', '[{"a":1},{"a":2}]', 'json'), [
      { line: 1, record: { a: 1 } },
      { line: 2, record: { a: 2 } },
    ]);
    await assert.rejects(read('j.json', '{"a":1}', 'json'), /must hold an array of objects/);
  });
});

describe('data paths', () => {
  const pipelineDir = join(dir, 'pipelines');
  const dataRoot = join(dir, 'data');
  mkdirSync(join(pipelineDir, 'sub'), { recursive: true });
  mkdirSync(dataRoot, { recursive: true });
  writeFileSync(join(pipelineDir, 'sub', 'ok.jsonl'), '{}\n');
  writeFileSync(join(dataRoot, 'shared.jsonl'), '{}\n');
  writeFileSync(join(dir, 'secret.txt'), 'no\n');
  symlinkSync(join(dir, 'secret.txt'), join(pipelineDir, 'link.txt'));

  test('resolves relative to the pipeline and allows configured roots', () => {
    assert.equal(resolveDataPath('sub/ok.jsonl', pipelineDir, []), join(pipelineDir, 'sub', 'ok.jsonl'));
    assert.equal(
      resolveDataPath(join(dataRoot, 'shared.jsonl'), pipelineDir, [dataRoot]),
      join(dataRoot, 'shared.jsonl'),
    );
  });

  test('rejects paths and symlinks that escape the allowed roots, and says how to allow them', () => {
    assert.throws(
      () => resolveDataPath('../secret.txt', pipelineDir, []),
      /outside the folders pipelines may read .*PIPEWRIGHT_DATA_ROOTS/,
    );
    assert.throws(() => resolveDataPath('link.txt', pipelineDir, []), /resolves to .*secret\.txt, outside/);
    assert.throws(() => resolveDataPath('missing.jsonl', pipelineDir, []), /source file not found/);
  });
});
