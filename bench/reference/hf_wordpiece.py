"""Reference for the WordPiece parity check: Hugging Face tokenizers' BertWordPieceTokenizer.

Usage: hf_wordpiece.py VOCAB_TXT TEXTS_JSONL OUT_JSONL
Reads {"text": ...} lines, writes {"ids": [...], "offsets": [[start, end], ...]} lines (offsets in
code points, as Python strings count them), and prints the seconds spent tokenizing as JSON.
"""
import json
import sys
import time

from tokenizers import BertWordPieceTokenizer


def main() -> None:
    vocab, texts_path, out_path = sys.argv[1:4]
    tokenizer = BertWordPieceTokenizer(vocab, lowercase=True)
    with open(texts_path, encoding="utf-8") as f:
        texts = [json.loads(line)["text"] for line in f]
    started = time.perf_counter()
    sequential = [tokenizer.encode(t) for t in texts]
    sequential_s = time.perf_counter() - started
    started = time.perf_counter()
    tokenizer.encode_batch(texts)
    batch_s = time.perf_counter() - started
    with open(out_path, "w", encoding="utf-8") as f:
        for e in sequential:
            f.write(json.dumps({"ids": e.ids, "offsets": [list(o) for o in e.offsets]}) + "\n")
    print(json.dumps({"sequential_s": sequential_s, "batch_s": batch_s}))


if __name__ == "__main__":
    main()
