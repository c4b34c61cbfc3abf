"""Reference for the pretrained-encoder parity check: Hugging Face transformers' BertModel.

Usage: hf_bert_hidden.py CHECKPOINT_DIR INPUT_JSON OUT_BIN
INPUT_JSON holds {"texts": [...], "batches": [{"ids": [[...]], "mask": [[...]]}]}. Writes the last
hidden states of every real (unmasked) token, batch by batch and row by row, as little-endian
float32 to OUT_BIN, and prints as JSON the checkpoint tokenizer's ids for every text (no padding
or truncation) and the seconds the forward passes took.
"""
import json
import sys
import time

import torch
from tokenizers import Tokenizer
from transformers import BertModel
from transformers.utils import logging


def main() -> None:
    checkpoint, input_path, out_path = sys.argv[1:4]
    with open(input_path, encoding="utf-8") as f:
        request = json.load(f)
    tokenizer = Tokenizer.from_file(f"{checkpoint}/tokenizer.json")
    tokenizer.no_padding()
    tokenizer.no_truncation()
    ids = [e.ids for e in tokenizer.encode_batch(request["texts"])]
    # The checkpoint's pooler is left out on purpose; transformers would list it as unexpected.
    logging.set_verbosity_error()
    model = BertModel.from_pretrained(checkpoint, add_pooling_layer=False, attn_implementation="eager")
    model.eval()
    seconds = 0.0
    with open(out_path, "wb") as out, torch.no_grad():
        for batch in request["batches"]:
            input_ids = torch.tensor(batch["ids"], dtype=torch.long)
            mask = torch.tensor(batch["mask"], dtype=torch.long)
            started = time.perf_counter()
            hidden = model(input_ids=input_ids, attention_mask=mask).last_hidden_state
            seconds += time.perf_counter() - started
            out.write(hidden[mask.bool()].numpy().astype("<f4").tobytes())
    print(json.dumps({"ids": ids, "seconds": seconds, "torch": torch.__version__}))


if __name__ == "__main__":
    main()
