"""Reference for the byte-level BPE parity check: Hugging Face tokenizers' ByteLevelBPETokenizer.

Usage: hf_bpe.py TRAIN_JSONL TEXTS_JSONL OUT_DIR VOCAB_SIZE
Trains on the "text" of TRAIN_JSONL, saves vocab.json and merges.txt in OUT_DIR, encodes every text
of TEXTS_JSONL into OUT_DIR/encoded.jsonl ({"ids", "offsets"} with code-point offsets), and prints
the seconds spent encoding as JSON.
"""
import json
import os
import sys
import time

from tokenizers import ByteLevelBPETokenizer


def read_texts(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line)["text"] for line in f]


def main() -> None:
    train_path, texts_path, out_dir, vocab_size = sys.argv[1:5]
    tokenizer = ByteLevelBPETokenizer()
    tokenizer.train_from_iterator(read_texts(train_path), vocab_size=int(vocab_size), min_frequency=2, special_tokens=["<pad>", "<|endoftext|>"], show_progress=False)
    tokenizer.save_model(out_dir)
    texts = read_texts(texts_path)
    started = time.perf_counter()
    encoded = [tokenizer.encode(t) for t in texts]
    sequential_s = time.perf_counter() - started
    with open(os.path.join(out_dir, "encoded.jsonl"), "w", encoding="utf-8") as f:
        for e in encoded:
            f.write(json.dumps({"ids": e.ids, "offsets": [list(o) for o in e.offsets]}) + "\n")
    print(json.dumps({"sequential_s": sequential_s}))


if __name__ == "__main__":
    main()
