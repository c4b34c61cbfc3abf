"""SQuAD v1.1 exact match and F1 with the official evaluation's logic, for bench/squad-parity.ts.

Reads {"answers": [{"prediction": str, "golds": [str, ...]}, ...]} as JSON on stdin and prints
{"exact_match", "f1", "questions", "per_question": [[em, f1], ...]} with scores as fractions.
Normalization as the official script has it: lowercase, drop string.punctuation, drop the words
a/an/the (re's Unicode \\b), collapse whitespace (str.split); F1 over token multisets; each
question scored against its best gold answer.
"""

import collections
import json
import re
import string
import sys

PUNCTUATION = set(string.punctuation)


def normalize(text):
    text = "".join(c for c in text.lower() if c not in PUNCTUATION)
    text = re.sub(r"\b(a|an|the)\b", " ", text)
    return " ".join(text.split())


def exact(prediction, gold):
    return float(normalize(prediction) == normalize(gold))


def f1(prediction, gold):
    predicted = normalize(prediction).split()
    truth = normalize(gold).split()
    same = sum((collections.Counter(predicted) & collections.Counter(truth)).values())
    if same == 0:
        return 0.0
    precision = same / len(predicted)
    recall = same / len(truth)
    return 2 * precision * recall / (precision + recall)


answers = json.load(sys.stdin)["answers"]
per_question = [
    [max(exact(a["prediction"], g) for g in a["golds"]), max(f1(a["prediction"], g) for g in a["golds"])]
    for a in answers
]
n = len(per_question)
json.dump(
    {
        "exact_match": sum(em for em, _ in per_question) / n,
        "f1": sum(f for _, f in per_question) / n,
        "questions": n,
        "per_question": per_question,
    },
    sys.stdout,
)
