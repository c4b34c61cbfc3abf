"""PyTorch reference for bench/decode-speed: the encoder-decoder of ml/models/decoder.ts, decoding greedily.

Loads Pipewright's own weights (float32, concatenated in the order of `params`, each kernel
[in, out] as Pipewright keeps them), so the same sources must give the same tokens. Pre-norm
encoder and decoder blocks (layer norm eps 1e-6, GELU tanh), token embedding scaled by
sqrt(hidden) plus sinusoidal positions, fused q|k|v projections, cross-attention keys and
values computed once per source, tied output projection plus bias. Decodes with its own
key/value cache (or, with "cache": false, by re-running the prefix at every step), the stop
token never chosen, `tokens` new tokens per sequence.
With "train" in the config it instead times training steps (teacher forcing, cross-entropy over
every target position, AdamW with weight decay 0.01 on all but biases and layer norms, clipping at
norm 1): no dropout, as the reference has none of Pipewright's dropout sites.
Usage: torch_seq2seq.py '<json config>'  — prints each round's seconds per case and the tokens as JSON,
or the seconds of each training step.
"""
import json
import math
import sys
import time

import numpy as np
import torch


def load_params(c):
    flat = np.fromfile(c["weights"], dtype="<f4")
    params, at = {}, 0
    for name, shape in c["params"]:
        size = int(np.prod(shape))
        params[name] = torch.from_numpy(flat[at : at + size].reshape(shape).copy())
        at += size
    return params


class Seq2Seq:
    def __init__(self, c, p):
        self.c, self.p = c, p
        self.d, self.heads = c["hidden"], c["heads"]
        self.dh = self.d // self.heads
        pos = torch.arange(c["maxLength"]).unsqueeze(1)
        i = torch.arange(self.d)
        angle = pos / torch.pow(10000, (2 * (i // 2)) / self.d)
        self.positions = torch.where(i % 2 == 0, torch.sin(angle), torch.cos(angle)).float()

    def norm(self, x, name):
        return torch.nn.functional.layer_norm(x, (self.d,), self.p[f"{name}/gamma"], self.p[f"{name}/beta"], 1e-6)

    def linear(self, x, name):
        return x @ self.p[f"{name}/kernel"] + self.p[f"{name}/bias"]

    def split(self, x, parts):
        """[b, t, parts*d] -> parts tensors [b, heads, t, dh]."""
        b, t, _ = x.shape
        return x.view(b, t, parts, self.heads, self.dh).permute(2, 0, 3, 1, 4).unbind(0)

    def attend(self, q, k, v, bias):
        scores = q @ k.transpose(-1, -2) / math.sqrt(self.dh)
        if bias is not None:
            scores = scores + bias
        b, _, t, _ = q.shape
        return (scores.softmax(-1) @ v).transpose(1, 2).reshape(b, t, self.d)

    def gelu(self, x):
        return torch.nn.functional.gelu(x, approximate="tanh")

    def embed(self, ids, offset):
        t = ids.shape[1]
        return self.p["embedding/tokens"][ids] * math.sqrt(self.d) + self.positions[offset : offset + t]

    def memory(self, ids, mask):
        x = self.embed(ids, 0)
        bias = (1 - mask[:, None, None, :]) * -1e9
        for l in range(self.c["layers"]):
            q, k, v = self.split(self.linear(self.norm(x, f"layer{l}/norm1"), f"layer{l}/attention/qkv"), 3)
            x = x + self.linear(self.attend(q, k, v, bias), f"layer{l}/attention/o")
            x = x + self.linear(self.gelu(self.linear(self.norm(x, f"layer{l}/norm2"), f"layer{l}/ffn/in")), f"layer{l}/ffn/out")
        rows = self.norm(x, "final_norm")
        cross = [self.split(self.linear(rows, f"decoder/layer{l}/cross/kv"), 2) for l in range(self.c["decoderLayers"])]
        return cross, bias

    def step(self, ids, offset, cache, memory, every_position=False):
        """Decoder over new tokens ids [b, t] after `offset` cached ones; returns the last logits (or,
        with every_position, those of every new token) and the new cache."""
        cross, memory_bias = memory
        t = ids.shape[1]
        x = self.embed(ids, offset)
        causal = None
        if t > 1:
            causal = torch.full((t, offset + t), -1e9).triu(offset + 1)
        grown = []
        for l in range(self.c["decoderLayers"]):
            name = f"decoder/layer{l}"
            q, k, v = self.split(self.linear(self.norm(x, f"{name}/norm1"), f"{name}/self/qkv"), 3)
            if cache is not None:
                k = torch.cat([cache[l][0], k], 2)
                v = torch.cat([cache[l][1], v], 2)
            grown.append((k, v))
            x = x + self.linear(self.attend(q, k, v, causal), f"{name}/self/o")
            (cq,) = self.split(self.linear(self.norm(x, f"{name}/norm2"), f"{name}/cross/q"), 1)
            x = x + self.linear(self.attend(cq, cross[l][0], cross[l][1], memory_bias), f"{name}/cross/o")
            x = x + self.linear(self.gelu(self.linear(self.norm(x, f"{name}/norm3"), f"{name}/ffn/in")), f"{name}/ffn/out")
        rows = self.norm(x if every_position else x[:, -1], "decoder/final_norm")
        return rows @ self.p["embedding/tokens"].T + self.p["head/bias"], grown

    def greedy(self, sources, tokens, use_cache):
        ids = torch.tensor(sources)
        memory = self.memory(ids, torch.ones(ids.shape))
        b = ids.shape[0]
        out = torch.full((b, 1), self.c["startId"])
        cache = None
        for i in range(tokens):
            if use_cache:
                logits, cache = self.step(out[:, -1:], i, cache, memory)
            else:
                logits, _ = self.step(out, 0, None, memory)
            logits[:, self.c["stopId"]] = -math.inf
            out = torch.cat([out, logits.argmax(-1, keepdim=True)], 1)
        return out[:, 1:].tolist()


def train(model, c):
    t = c["train"]
    params = model.p
    for p in params.values():
        p.requires_grad_(True)
    decay = [p for n, p in params.items() if not n.endswith(("bias", "gamma", "beta"))]
    rest = [p for n, p in params.items() if n.endswith(("bias", "gamma", "beta"))]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.01}, {"params": rest, "weight_decay": 0.0}], lr=1e-3)
    b, s, n = t["batch"], t["sourceLength"], t["targetLength"]
    ids = torch.randint(2, c["vocabSize"], (b, s))
    decoder_ids = torch.randint(2, c["vocabSize"], (b, n))
    labels = torch.randint(2, c["vocabSize"], (b * n,))

    def step():
        opt.zero_grad(set_to_none=True)
        logits, _ = model.step(decoder_ids, 0, None, model.memory(ids, torch.ones(b, s)), every_position=True)
        loss = torch.nn.functional.cross_entropy(logits.reshape(b * n, -1), labels)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(list(params.values()), 1.0)
        opt.step()

    for _ in range(t["warmup"]):
        step()
    seconds = []
    for _ in range(t["steps"]):
        started = time.perf_counter()
        step()
        seconds.append(time.perf_counter() - started)
    return seconds


def main():
    c = json.loads(sys.argv[1])
    torch.set_num_threads(c["threads"])
    model = Seq2Seq(c, load_params(c))
    if "train" in c:
        print(json.dumps({"train_steps_s": train(model, c), "torch": torch.__version__}))
        return
    seconds, tokens = {}, {}
    with torch.no_grad():
        for case in c["cases"]:
            sources = c["sources"][: case["batch"]]
            model.greedy(sources, c["tokens"], case["cache"])
            started = time.perf_counter()
            tokens[case["name"]] = model.greedy(sources, c["tokens"], case["cache"])
            seconds[case["name"]] = time.perf_counter() - started
    print(json.dumps({"seconds": seconds, "tokens": tokens, "torch": torch.__version__}))


if __name__ == "__main__":
    main()
