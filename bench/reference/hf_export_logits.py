"""Reference for the Hugging Face export check: transformers loads an exported directory.

Usage: hf_export_logits.py EXPORT_DIR TEXTS_JSON
Loads EXPORT_DIR with AutoTokenizer and AutoModelForSequenceClassification,
AutoModelForTokenClassification or AutoModelForQuestionAnswering (as its config.json's
architecture says), and prints as JSON the tokenizer's ids and the model's logits for each text
(one row per text, or one per token; for question answering each text is a [question, context]
pair and the logits are a row of start and a row of end scores).
"""
import json
import sys

import torch
from transformers import (
    AutoConfig,
    AutoModelForQuestionAnswering,
    AutoModelForSequenceClassification,
    AutoModelForTokenClassification,
    AutoTokenizer,
)
from transformers.utils import logging


def main() -> None:
    export_dir, texts_path = sys.argv[1:3]
    with open(texts_path, encoding="utf-8") as f:
        texts = json.load(f)
    logging.disable_progress_bar()
    config = AutoConfig.from_pretrained(export_dir)
    architecture = config.architectures[0]
    auto = {
        "BertForTokenClassification": AutoModelForTokenClassification,
        "BertForQuestionAnswering": AutoModelForQuestionAnswering,
    }.get(architecture, AutoModelForSequenceClassification)
    model = auto.from_pretrained(export_dir)
    model.eval()
    tokenizer = AutoTokenizer.from_pretrained(export_dir)
    out = []
    with torch.no_grad():
        for text in texts:
            if architecture == "BertForQuestionAnswering":
                encoded = tokenizer(text[0], text[1], return_tensors="pt")
                output = model(**encoded)
                logits = torch.stack([output.start_logits[0], output.end_logits[0]])
            else:
                encoded = tokenizer(text, return_tensors="pt")
                logits = model(**encoded).logits[0]
            out.append({"ids": encoded["input_ids"][0].tolist(), "logits": logits.tolist()})
    print(json.dumps({"architecture": config.architectures[0], "rows": out}))


if __name__ == "__main__":
    main()
