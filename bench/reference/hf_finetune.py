"""PyTorch reference for bench/finetune-throughput: fine-tuning a BERT checkpoint with transformers.

BertForSequenceClassification (task "classification"), BertForTokenClassification (task
"token_classification", every fourth token's label ignored) or BertForQuestionAnswering (task
"question_answering": start and end positions, token types 1 after the first third) from the checkpoint directory, the parameters under the frozen
prefixes set to requires_grad=False (so autograd skips them and AdamW holds no state for them),
AdamW (no decay on biases and LayerNorm weights), global-norm clipping at 1.0, dropout on.
Usage: hf_finetune.py '<json config>' — prints the time of every step and inference call as JSON.
"""
import json
import sys

import torch
from transformers import BertForQuestionAnswering, BertForSequenceClassification, BertForTokenClassification
from transformers.utils import logging

from timing import time_inference, time_steps


def main():
    c = json.loads(sys.argv[1])
    torch.manual_seed(0)
    torch.set_num_threads(c["threads"])
    logging.set_verbosity_error()
    logging.disable_progress_bar()
    per_token = c["task"] == "token_classification"
    spans = c["task"] == "question_answering"
    auto = BertForQuestionAnswering if spans else BertForTokenClassification if per_token else BertForSequenceClassification
    model = auto.from_pretrained(
        c["checkpoint"], num_labels=2 if spans else c["classes"], attn_implementation="eager"
    )
    for name, p in model.named_parameters():
        p.requires_grad = not any(name.startswith(prefix) for prefix in c["frozen_prefixes"])
    trained = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    no_decay = lambda n: n.endswith("bias") or "LayerNorm" in n
    opt = torch.optim.AdamW(
        [
            {"params": [p for n, p in trained if not no_decay(n)], "weight_decay": 0.01},
            {"params": [p for n, p in trained if no_decay(n)], "weight_decay": 0.0},
        ],
        lr=1e-4,
    )
    b, t = c["batch"], c["seq"]
    ids = torch.randint(1000, 30000, (b, t))
    mask = torch.ones(b, t, dtype=torch.long)
    types = (torch.arange(t) >= t / 3).long().expand(b, t) if spans else torch.zeros(b, t, dtype=torch.long)
    targets = {}
    if spans:
        targets = {"start_positions": torch.randint(0, t, (b,)), "end_positions": torch.randint(0, t, (b,))}
    elif per_token:
        labels = torch.randint(0, c["classes"], (b, t))
        labels[:, ::4] = -100
    else:
        labels = torch.randint(0, c["classes"], (b,))
    if not spans:
        targets = {"labels": labels}

    def step():
        opt.zero_grad(set_to_none=True)
        loss = model(input_ids=ids, attention_mask=mask, token_type_ids=types, **targets).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_([p for _, p in trained], 1.0)
        opt.step()

    model.train()
    train_steps = time_steps(step, c["warmup"], c["steps"])
    model.eval()
    infer1 = time_inference(lambda: model(input_ids=ids[:1], attention_mask=mask[:1], token_type_ids=types[:1]), 30)
    infer_batch = time_inference(lambda: model(input_ids=ids, attention_mask=mask, token_type_ids=types), 10)
    print(json.dumps({"train_steps_s": train_steps, "infer_b1_s": infer1, "infer_batch_s": infer_batch, "torch": torch.__version__}))


if __name__ == "__main__":
    main()
