import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { createActivities, type StepInput, type StepResult } from '../../activities';
import { sharedDataDir } from '../../bench/shared-texts';
import { IGNORED_LABEL } from '../../ml/tokenizers/task-encoding';
import { ByteLevelBpeTokenizer } from '../../ml/tokenizers/byte-level-bpe';
import { loadTokenizer } from '../../ml/tokenizers/tokenizer-file';
import type { ArtifactRef } from '../../core/artifacts';
import { readDataset, writeDataset, type Row } from '../../store/arrow-io';
import { loadConfig } from '../../worker/config';
import { activityDeps } from '../../worker/create-workers';

const home = mkdtempSync(join(tmpdir(), 'pipewright-tasks-'));
after(() => rmSync(home, { recursive: true, force: true }));
const deps = activityDeps({ ...loadConfig({}), home });
const activities = createActivities(deps);
const env = new MockActivityEnvironment();
const call = (withValues: Record<string, unknown>, inputs: Record<string, ArtifactRef>): Promise<StepResult> =>
  env.run(activities.tokenize, {
    run: { workflowId: 'wf', runId: 'r', pipeline: 'p' },
    stepId: 's',
    with: withValues,
    inputs,
    cache: false,
  } satisfies StepInput);

function sharedRows(file: string, count: number): Row[] {
  return readFileSync(join(sharedDataDir(), file), 'utf8')
    .trim()
    .split('\n')
    .slice(0, count)
    .map((line) => JSON.parse(line) as Row);
}

async function rowsOf(ref: ArtifactRef): Promise<Row[]> {
  const out: Row[] = [];
  for await (const chunk of readDataset(deps.store, ref)) out.push(...chunk);
  return out;
}

describe('tokenize tasks on the shared datasets', () => {
  test('token classification: WikiANN tags land on each word’s first sub-token, -100 elsewhere', async () => {
    const source = sharedRows('wikiann-en/train.jsonl', 300);
    const dataset = await writeDataset(deps.store, { kind: 'dataset' }, [source]);
    const result = await call({ task: 'token_classification', vocab: 'bert-base-uncased' }, { dataset });
    const tokenizer = await loadTokenizer(deps.store, result.outputs.tokenizer as ArtifactRef);
    assert.deepEqual(tokenizer.tags, ['B-LOC', 'B-ORG', 'B-PER', 'I-LOC', 'I-ORG', 'I-PER', 'O']);
    const rows = await rowsOf(result.outputs.dataset as ArtifactRef);
    rows.forEach((row, r) => {
      const words = source[r]!.tokens as string[];
      const tags = source[r]!.tags as string[];
      const wordIds = row.word_ids as number[];
      const tagIds = row.tag_ids as number[];
      words.forEach((_, w) => {
        const first = wordIds.indexOf(w);
        if (first < 0) return; // a word that normalizes to nothing (e.g. a lone control character) has no tokens
        assert.equal(tokenizer.tags![tagIds[first]!], tags[w], `row ${r} word ${w}`);
        wordIds.forEach((id, t) => {
          if (id === w && t !== first) assert.equal(tagIds[t], IGNORED_LABEL);
        });
      });
      assert.equal(tagIds[0], IGNORED_LABEL, '[CLS]');
    });
  });

  test('token classification: pad cuts and pads tag_ids and word_ids with input_ids; word_tag_ids keeps every word', async () => {
    const source = sharedRows('wikiann-en/train.jsonl', 200);
    const dataset = await writeDataset(deps.store, { kind: 'dataset' }, [source]);
    const tokenized = await call({ task: 'token_classification', vocab: 'bert-base-uncased' }, { dataset });
    const tokenizer = tokenized.outputs.tokenizer as ArtifactRef;
    const padded: StepResult = await env.run(activities.pad, {
      run: { workflowId: 'wf', runId: 'r', pipeline: 'p' },
      stepId: 'pad',
      with: { max_length: 8 },
      inputs: { dataset: tokenized.outputs.dataset as ArtifactRef, tokenizer },
      cache: false,
    });
    assert.ok((padded.outputs.truncated as number) > 0, 'some rows were cut');
    const before = await rowsOf(tokenized.outputs.dataset as ArtifactRef);
    const tags = (await loadTokenizer(deps.store, tokenizer)).tags!;
    (await rowsOf(padded.outputs.dataset as ArtifactRef)).forEach((row, r) => {
      const ids = row.input_ids as number[];
      const tagIds = row.tag_ids as number[];
      const wordIds = row.word_ids as number[];
      const kept = row.length as number;
      assert.equal(ids.length, 8);
      assert.equal(tagIds.length, 8, `row ${r}: tag_ids aligned`);
      assert.equal(wordIds.length, 8, `row ${r}: word_ids aligned`);
      assert.equal(tagIds[0], IGNORED_LABEL, '[CLS]');
      assert.equal(tagIds[kept - 1], IGNORED_LABEL, '[SEP] kept at the end');
      for (let t = kept; t < 8; t++) {
        assert.equal(tagIds[t], IGNORED_LABEL, 'padding is ignored by the loss');
        assert.equal(wordIds[t], -1);
      }
      // The body is the untruncated row's first tokens.
      const original = before[r]!;
      const body = kept - 2;
      assert.deepEqual(tagIds.slice(1, kept - 1), (original.tag_ids as number[]).slice(1, 1 + body));
      assert.deepEqual(
        (row.word_tag_ids as number[]).map((id) => tags[id]),
        source[r]!.tags,
        'every word keeps its tag for scoring',
      );
    });
  });

  test('question answering: XQuAD answers map to token spans inside their windows', async () => {
    // A column of the user's own (a topic) travels with the windows like the id.
    const source = sharedRows('xquad-en/test.jsonl', 60).map((row, i): Row => ({ ...row, topic: `t${i % 3}` }));
    const dataset = await writeDataset(deps.store, { kind: 'dataset' }, [source]);
    const result = await call(
      { task: 'question_answering', vocab: 'bert-base-uncased', max_length: 128, stride: 32 },
      { dataset },
    );
    const windows = await rowsOf(result.outputs.dataset as ArtifactRef);
    assert.ok(windows.length > source.length, 'long contexts were cut into several windows');
    const found = new Set<number>();
    for (const w of windows) {
      assert.ok((w.input_ids as number[]).length <= 128);
      const start = w.start_position as number;
      if (start === 0) continue;
      const example = source[(w.example as number) - 1]!;
      const answers = example.answers as { text: string[]; answer_start: number[] };
      const context = example.context as string;
      const from = (w.context_start as number[])[start]!;
      const to = (w.context_end as number[])[w.end_position as number]!;
      assert.equal(
        context.slice(from, to).toLowerCase(),
        answers.text[0]!.toLowerCase(),
        `window of example ${String(w.example)}`,
      );
      found.add(w.example as number);
    }
    assert.equal(found.size, source.length, 'every answer is inside at least one window');
    const without = windows.filter((w) => w.start_position === 0).length;
    assert.ok(without > 0);
    assert.match(result.summary, new RegExp(`in ${windows.length} windows \\(${without} without the answer\\)`));
    // Every window carries what scoring needs: the context and all gold answers of its question.
    for (const w of windows) {
      const example = source[(w.example as number) - 1]!;
      assert.equal(w.context, example.context);
      assert.deepEqual(w.answers, example.answers);
      // …and the question's other columns (validate can group by them); the question text is encoded.
      assert.deepEqual([w.id, w.topic], [example.id, example.topic]);
      assert.equal(w.question, undefined);
    }
  });

  test('question answering: an answer not at its offset, or an empty context, is refused naming the row', async () => {
    const good = {
      question: 'Where is Mary?',
      context: 'Mary moved to the bathroom.',
      answers: { text: ['bathroom'], answer_start: [18] },
    };
    const refused = async (row: Record<string, unknown>) => {
      const dataset = await writeDataset(deps.store, { kind: 'dataset' }, [[good, row]]);
      const error = await call({ task: 'question_answering', vocab: 'bert-base-uncased' }, { dataset }).catch(
        (e: unknown) => e,
      );
      assert.ok(error instanceof ApplicationFailure, 'refused');
      return error.message;
    };
    assert.match(
      await refused({ ...good, answers: { text: ['bathroom'], answer_start: [17] } }),
      /row 2: answer 1 "bathroom" is not at offset 17 of the context \(there: " bathroo"; offsets count code points\)/,
    );
    assert.match(await refused({ ...good, context: '  ' }), /row 2: the context is empty/);
    // Offsets count code points, as Python writes them: characters beyond U+FFFF count once.
    const linear = {
      ...good,
      context: '𐀞𐀊 Mary moved to the bathroom.',
      answers: { text: ['bathroom'], answer_start: [21] },
    };
    const dataset = await writeDataset(deps.store, { kind: 'dataset' }, [[linear]]);
    const result = await call({ task: 'question_answering', vocab: 'bert-base-uncased' }, { dataset });
    const [window] = await rowsOf(result.outputs.dataset as ArtifactRef);
    const from = (window!.context_start as number[])[window!.start_position as number]!;
    const to = (window!.context_end as number[])[window!.end_position as number]!;
    assert.equal(linear.context.slice(from, to), 'bathroom');
    assert.match(
      await refused({ ...good, answers: { text: ['bathroom', 'room'], answer_start: [18] } }),
      /row 2: answers must be \{"text": \[...\], "answer_start": \[...\]\} with one start per text/,
    );
  });

  test('question answering: clean quarantines misplaced answers and moves the others with their cleaned context', async () => {
    // SQuAD rows made messy as scraped pages are: markup, a zero-width space, doubled spaces
    // between sentences (outside the answer, which must stay as it is at its offset).
    const noisy = (text: string) => text.replaceAll('. ', '.  ');
    const source = sharedRows('squad-en/train.jsonl', 200).map((row): Row => {
      const points = [...(row.context as string)];
      const {
        text: [text],
        answer_start: [start],
      } = row.answers as { text: [string]; answer_start: [number] };
      const before = `<p>\u200b${noisy(points.slice(0, start).join(''))}`;
      const after = noisy(points.slice(start + [...text].length).join(''));
      return {
        ...row,
        context: `${before}${text}${after}</p>`,
        answers: { text: [text], answer_start: [[...before].length] },
      };
    });
    const broken = 7;
    const misplaced = source[broken]!.answers as { text: string[]; answer_start: number[] };
    source[broken] = { ...source[broken]!, answers: { ...misplaced, answer_start: [misplaced.answer_start[0]! + 1] } };
    const dataset = await writeDataset(deps.store, { kind: 'dataset' }, [source]);
    const cleaned: StepResult = await env.run(activities.clean, {
      run: { workflowId: 'wf', runId: 'r', pipeline: 'p' },
      stepId: 'clean',
      with: { text_column: 'context', dedupe: false },
      inputs: { dataset },
      cache: false,
    } satisfies StepInput);
    assert.equal(cleaned.outputs.quarantined, 1);
    const [bad] = await rowsOf(cleaned.outputs.quarantine as ArtifactRef);
    assert.deepEqual([bad!.row, bad!.reason], [broken + 1, 'answers 1 is not at its answer_start in context']);
    assert.match(cleaned.summary, /199 rows kept, 1 quarantined, 0 duplicates of 200; 199 answers moved/);
    const kept = await rowsOf(cleaned.outputs.dataset as ArtifactRef);
    assert.equal(kept[0]!.context, (sharedRows('squad-en/train.jsonl', 1)[0]!.context as string).trim());
    // Every kept answer is where its offset says in the cleaned context, so tokenize takes them all.
    const result = await call(
      { task: 'question_answering', vocab: 'bert-base-uncased', max_length: 192, stride: 48 },
      { dataset: cleaned.outputs.dataset as ArtifactRef },
    );
    assert.match(result.summary, /^199 rows in \d+ windows/);
  });

  test('a checkpoint without a vocabulary fails the step at once: retrying cannot fix it', async () => {
    const empty = mkdtempSync(join(home, 'no-vocab-'));
    const readsHome = createActivities(activityDeps({ ...loadConfig({}), home, dataRoots: [home] }));
    const dataset = await writeDataset(deps.store, { kind: 'dataset' }, [[{ text: 'hi', label: 'a' }]]);
    const error = await env
      .run(readsHome.tokenize, {
        run: { workflowId: 'wf', runId: 'r', pipeline: 'p' },
        stepId: 's',
        with: { vocab: `pretrained:${empty}` },
        inputs: { dataset },
        cache: false,
      } satisfies StepInput)
      .catch((e: unknown) => e);
    assert.ok(error instanceof ApplicationFailure, String(error));
    assert.equal(error.type, 'CheckpointVocabularyError');
    assert.equal(error.nonRetryable, true);
    assert.match(error.message, /has neither tokenizer\.json nor vocab\.txt/);
  });

  test('a missing column names the task and lists the columns there are', async () => {
    const dataset = await writeDataset(deps.store, { kind: 'dataset' }, [[{ text: 'hi' }]]);
    const error = await call({ task: 'question_answering', vocab: 'bert-base-uncased' }, { dataset }).catch(
      (e: unknown) => e,
    );
    assert.ok(error instanceof ApplicationFailure);
    assert.match(
      error.message,
      /task question_answering needs column "question", which the dataset lacks; its columns: text/,
    );
  });

  test('a text that is a list or an object fails the step saying so; numbers are read as text', async () => {
    const dataset = await writeDataset(deps.store, { kind: 'dataset' }, [
      [{ text: 'fine' }, { text: 2024 }, { text: { note: 'not text' } }],
    ]);
    const error = await call({ vocab: 'bert-base-uncased' }, { dataset }).catch((e: unknown) => e);
    assert.ok(error instanceof ApplicationFailure);
    assert.equal(error.nonRetryable, true);
    assert.match(error.message, /\{"note":"not text"\} is an object, not text: put a clean step before tokenize/);
    const numbers = await writeDataset(deps.store, { kind: 'dataset' }, [[{ text: 'fine' }, { text: 2024 }]]);
    const ok = await call({ vocab: 'bert-base-uncased' }, { dataset: numbers });
    assert.equal(ok.summary.startsWith('2 rows'), true, ok.summary);
  });
});

describe('tokenize with byte-level BPE', () => {
  test('trains on chat turns, ends each text with <|endoftext|>, and pad keeps it when truncating', async () => {
    const turns = sharedRows('chatterbot-en/train.jsonl', 400).map((row) => ({
      text: row.response as string,
      label: 'chat',
    }));
    const dataset = await writeDataset(deps.store, { kind: 'dataset' }, [turns]);
    const result = await call({ algorithm: 'byte_level_bpe', vocab_size: 600 }, { dataset });
    const file = await loadTokenizer(deps.store, result.outputs.tokenizer as ArtifactRef);
    assert.equal(file.type, 'byte_level_bpe');
    assert.deepEqual(file.vocab.slice(0, 2), ['<pad>', '<|endoftext|>']);
    assert.equal(result.outputs.unknown_tokens, 0);
    const rows = await rowsOf(result.outputs.dataset as ArtifactRef);
    assert.ok(rows.every((r) => (r.input_ids as number[]).at(-1) === 1));
    const padded: StepResult = await env.run(activities.pad, {
      run: { workflowId: 'wf', runId: 'r', pipeline: 'p' },
      stepId: 'pad',
      with: { max_length: 6 },
      inputs: { dataset: result.outputs.dataset as ArtifactRef, tokenizer: result.outputs.tokenizer as ArtifactRef },
      cache: false,
    });
    for (const r of await rowsOf(padded.outputs.dataset as ArtifactRef))
      assert.equal((r.input_ids as number[])[(r.length as number) - 1], 1, '<|endoftext|> kept');
  });

  test('byte-level BPE refuses word-level tasks with a clear message', async () => {
    const dataset = await writeDataset(deps.store, { kind: 'dataset' }, [[{ tokens: ['a'], tags: ['O'] }]]);
    const error = await call({ algorithm: 'byte_level_bpe', task: 'token_classification' }, { dataset }).catch(
      (e: unknown) => e,
    );
    assert.ok(error instanceof ApplicationFailure);
    assert.match(
      error.message,
      /algorithm byte_level_bpe supports tasks classification and seq2seq; token_classification needs wordpiece/,
    );
  });
});

describe('tokenize and pad for sequence to sequence', () => {
  const padWith = (withValues: Record<string, unknown>, result: StepResult): Promise<StepResult> =>
    env.run(activities.pad, {
      run: { workflowId: 'wf', runId: 'r', pipeline: 'p' },
      stepId: 'pad',
      with: withValues,
      inputs: { dataset: result.outputs.dataset as ArtifactRef, tokenizer: result.outputs.tokenizer as ArtifactRef },
      cache: false,
    });

  test('DailyDialog: the last turns, each ended by <|endoftext|>, make the source; the reply is framed by it', async () => {
    const source = sharedRows('dailydialog-en/train.jsonl', 300);
    const dataset = await writeDataset(deps.store, { kind: 'dataset' }, [source]);
    const result = await call(
      { task: 'seq2seq', algorithm: 'byte_level_bpe', vocab_size: 800, context_turns: 2 },
      { dataset },
    );
    const file = await loadTokenizer(deps.store, result.outputs.tokenizer as ArtifactRef);
    assert.ok(file.type === 'byte_level_bpe');
    assert.deepEqual(file.seq2seq, { contextTurns: 2 }, 'serving keeps as many turns');
    const bpe = new ByteLevelBpeTokenizer(file);
    const eos = file.vocab.indexOf('<|endoftext|>');
    const rows = await rowsOf(result.outputs.dataset as ArtifactRef);
    assert.equal(rows.length, 300);
    rows.forEach((row, r) => {
      const turns = (source[r]!.context as string[]).slice(-2);
      const ids = row.input_ids as number[];
      // Split at the separators, every piece decodes to its turn exactly.
      const pieces: number[][] = [[]];
      for (const id of ids) {
        if (id === eos) pieces.push([]);
        else pieces.at(-1)!.push(id);
      }
      assert.deepEqual(
        pieces.slice(0, -1).map((piece) => bpe.decode(piece)),
        turns,
        `row ${r}`,
      );
      const target = row.target_ids as number[];
      assert.equal(target[0], eos);
      assert.equal(target.at(-1), eos);
      assert.equal(bpe.decode(target.slice(1, -1)), (source[r]!.response as string).trim());
      assert.equal(row.response, source[r]!.response, 'the reply text stays for scoring');
    });

    const padded = await padWith({ max_length: 24, truncation: 'start', target_max_length: 12 }, result);
    const out = await rowsOf(padded.outputs.dataset as ArtifactRef);
    out.forEach((row, r) => {
      const full = rows[r]!.target_ids as number[];
      const target = row.target_ids as number[];
      const mask = row.target_mask as number[];
      assert.equal(target.length, 12);
      const kept = mask.filter((m) => m === 1).length;
      assert.equal(kept, Math.min(12, full.length));
      assert.equal(target[0], eos, 'the start token stays');
      assert.equal(target[kept - 1], eos, 'the end token stays when the reply is cut');
      assert.deepEqual(target.slice(1, kept - 1), full.slice(1, kept - 1), 'a long reply is cut at its end');
      assert.ok(
        target.slice(kept).every((id) => id === 0),
        'padded with <pad>',
      );
      const ids = row.input_ids as number[];
      const length = row.length as number;
      const sourceIds = rows[r]!.input_ids as number[];
      // The source is cut from its start: the latest turn stays whole.
      assert.deepEqual(ids.slice(0, length), sourceIds.slice(-length));
    });
  });

  test('refuses WordPiece, and an empty reply or turn, naming the row', async () => {
    const good = { context: ['Hello there.', 'Hi! How are you?'], response: 'Fine, thanks.' };
    const refused = async (rows: Record<string, unknown>[], withValues: Record<string, unknown>) => {
      const dataset = await writeDataset(deps.store, { kind: 'dataset' }, [rows]);
      const error = await call({ task: 'seq2seq', ...withValues }, { dataset }).catch((e: unknown) => e);
      assert.ok(error instanceof ApplicationFailure, 'refused');
      assert.equal(error.nonRetryable, true);
      return error.message;
    };
    assert.match(await refused([good], {}), /task seq2seq needs algorithm: byte_level_bpe/);
    const bpe = { algorithm: 'byte_level_bpe', vocab_size: 300 };
    assert.match(await refused([good, { ...good, response: '  ' }], bpe), /row 2: the target is empty/);
    assert.match(
      await refused([good, { ...good, context: ['Hello.', ''] }], bpe),
      /row 2: turn 2 of the source is not a non-empty text/,
    );
    assert.match(await refused([{ ...good, context: [] }], bpe), /row 1: the source is empty/);
  });
});
