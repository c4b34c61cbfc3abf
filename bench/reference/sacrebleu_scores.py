"""Scores hypotheses against one reference each with sacreBLEU's defaults, for bench/sacrebleu-parity.ts.

Reads {"hypotheses": [str, ...], "references": [str, ...]} as JSON on stdin and prints corpus
BLEU (its precisions, brevity penalty and lengths) and corpus chrF.
"""

import json
import sys

from sacrebleu.metrics import BLEU, CHRF

data = json.load(sys.stdin)
hypotheses, references = data["hypotheses"], [data["references"]]
bleu = BLEU().corpus_score(hypotheses, references)
chrf = CHRF().corpus_score(hypotheses, references)
json.dump(
    {
        "bleu": bleu.score,
        "precisions": bleu.precisions,
        "brevityPenalty": bleu.bp,
        "hypothesisLength": bleu.sys_len,
        "referenceLength": bleu.ref_len,
        "chrf": chrf.score,
    },
    sys.stdout,
)
