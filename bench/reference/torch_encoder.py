"""PyTorch reference for bench/train-throughput: the same encoder as ml/models/encoder.ts, with its heads.

Pre-norm blocks of multi-head self-attention with a padding mask and a GELU (tanh) feed-forward,
token embedding scaled by sqrt(hidden) plus sinusoidal positions, final layer norm and a linear
head: on the first token (task "classification") or on every token ("token_classification", the
loss skipping every fourth position as sub-tokens after a word's first are skipped); AdamW (no
decay on biases and norms), global-norm clipping at 1.0.
The same model, exported to ONNX, is also timed on ONNX Runtime's CPU execution provider (its
answers checked against PyTorch's first).
Usage: torch_encoder.py '<json config>'  — prints the time of every step and inference call as JSON.
"""
import json
import math
import os
import sys
import tempfile
import warnings

import numpy as np
import onnxruntime as ort

import torch
from torch import nn

from timing import time_inference, time_steps


class Block(nn.Module):
    def __init__(self, d, heads, ffn, dropout):
        super().__init__()
        self.heads = heads
        self.norm1 = nn.LayerNorm(d, eps=1e-6)
        self.q, self.k, self.v, self.o = (nn.Linear(d, d) for _ in range(4))
        self.norm2 = nn.LayerNorm(d, eps=1e-6)
        self.ffn_in = nn.Linear(d, ffn)
        self.ffn_out = nn.Linear(ffn, d)
        self.drop = nn.Dropout(dropout)

    def forward(self, x, mask_bias):
        b, t, d = x.shape
        dh = d // self.heads
        h = self.norm1(x)
        split = lambda y: y.view(b, t, self.heads, dh).transpose(1, 2)
        q, k, v = split(self.q(h)), split(self.k(h)), split(self.v(h))
        scores = q @ k.transpose(-1, -2) / math.sqrt(dh) + mask_bias
        context = (self.drop(scores.softmax(-1)) @ v).transpose(1, 2).reshape(b, t, d)
        x = x + self.drop(self.o(context))
        f = self.ffn_out(nn.functional.gelu(self.ffn_in(self.norm2(x)), approximate="tanh"))
        return x + self.drop(f)


class Encoder(nn.Module):
    def __init__(self, c):
        super().__init__()
        d = c["hidden"]
        self.d = d
        self.per_token = c["task"] == "token_classification"
        self.tokens = nn.Embedding(c["vocabSize"], d)
        pos = torch.arange(c["maxLength"]).unsqueeze(1)
        i = torch.arange(d)
        angle = pos / torch.pow(10000, (2 * (i // 2)) / d)
        self.register_buffer("positions", torch.where(i % 2 == 0, torch.sin(angle), torch.cos(angle)).float())
        self.blocks = nn.ModuleList(Block(d, c["heads"], c["ffn"], c["dropout"]) for _ in range(c["layers"]))
        self.norm = nn.LayerNorm(d, eps=1e-6)
        self.head = nn.Linear(d, c["classes"])
        self.drop = nn.Dropout(c["dropout"])

    def forward(self, ids, mask):
        t = ids.shape[1]
        x = self.drop(self.tokens(ids) * math.sqrt(self.d) + self.positions[:t])
        mask_bias = (1 - mask[:, None, None, :]) * -1e9
        for block in self.blocks:
            x = block(x, mask_bias)
        return self.head(self.norm(x)).flatten(0, 1) if self.per_token else self.head(self.norm(x)[:, 0])


def onnx_runtime(model, ids, mask, batch, threads):
    """Inference times of the model exported to ONNX on ONNX Runtime (CPU), at batch 1 and `batch`."""
    path = os.path.join(tempfile.mkdtemp(), "encoder.onnx")
    rows = {0: "rows"}
    # The exporter's notes on tracing (the head's reshape, the legacy exporter) say nothing about this model.
    warnings.simplefilter("ignore")
    torch.onnx.export(
        model,
        (ids[:1], mask[:1]),
        path,
        input_names=["ids", "mask"],
        output_names=["logits"],
        dynamic_axes={"ids": {0: "batch"}, "mask": {0: "batch"}, "logits": rows},
        dynamo=False,
    )
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
    feed = lambda n: {"ids": ids[:n].numpy(), "mask": mask[:n].numpy()}
    with torch.no_grad():
        expected = model(ids[:batch], mask[:batch]).numpy()
    got = session.run(None, feed(batch))[0]
    if not np.allclose(got, expected, atol=1e-4):
        raise SystemExit(f"ONNX Runtime disagrees with PyTorch by {np.abs(got - expected).max()}")
    one, full = feed(1), feed(batch)
    return (
        time_inference(lambda: session.run(None, one), 50),
        time_inference(lambda: session.run(None, full), 20),
    )


def main():
    c = json.loads(sys.argv[1])
    torch.manual_seed(0)
    torch.set_num_threads(c["threads"])
    model = Encoder(c)
    decay = [p for n, p in model.named_parameters() if not n.endswith("bias") and "norm" not in n]
    rest = [p for n, p in model.named_parameters() if n.endswith("bias") or "norm" in n]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.01}, {"params": rest, "weight_decay": 0.0}], lr=1e-3)
    b, t = c["batch"], c["maxLength"]
    ids = torch.randint(1, c["vocabSize"], (b, t))
    mask = torch.ones(b, t)
    if model.per_token:
        labels = torch.randint(0, c["classes"], (b * t,))
        labels[::4] = -100
    else:
        labels = torch.randint(0, c["classes"], (b,))
    loss_fn = nn.CrossEntropyLoss(ignore_index=-100)

    def step():
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model(ids, mask), labels)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()

    model.train()
    train_steps = time_steps(step, c["warmup"], c["steps"])
    model.eval()
    infer1 = time_inference(lambda: model(ids[:1], mask[:1]), 50)
    infer32 = time_inference(lambda: model(ids[:b], mask[:b]), 20)
    ort1, ort32 = onnx_runtime(model, ids, mask, b, c["threads"])
    print(
        json.dumps(
            {
                "train_steps_s": train_steps,
                "infer_b1_s": infer1,
                "infer_batch_s": infer32,
                "torch": torch.__version__,
                "ort_infer_b1_s": ort1,
                "ort_infer_batch_s": ort32,
                "onnxruntime": ort.__version__,
            }
        )
    )


if __name__ == "__main__":
    main()
