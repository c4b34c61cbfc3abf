"""Scores tag sequences with seqeval (default mode, the CoNLL semantics), for bench/seqeval-parity.ts.

Reads {"actual": [[tag, ...], ...], "predicted": [[tag, ...], ...]} as JSON on stdin and prints
the micro-averaged precision, recall and F1, the tag accuracy and one row per entity type.
"""

import json
import sys
import warnings

from seqeval.metrics import accuracy_score, classification_report, f1_score, precision_score, recall_score

warnings.filterwarnings("ignore")
data = json.load(sys.stdin)
actual, predicted = data["actual"], data["predicted"]
report = classification_report(actual, predicted, output_dict=True, zero_division=0)
per_type = [
    {
        "label": name,
        "precision": row["precision"],
        "recall": row["recall"],
        "f1": row["f1-score"],
        "support": int(row["support"]),
    }
    for name, row in sorted(report.items())
    if name not in ("micro avg", "macro avg", "weighted avg")
]
json.dump(
    {
        "precision": precision_score(actual, predicted, zero_division=0),
        "recall": recall_score(actual, predicted, zero_division=0),
        "f1": f1_score(actual, predicted, zero_division=0),
        "accuracy": accuracy_score(actual, predicted),
        "perType": per_type,
    },
    sys.stdout,
)
