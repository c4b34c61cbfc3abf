"""Times one recorded session call of a Pipewright graph in TensorFlow's own session and traces its ops.

Usage: profile_graph.py <call dir> <intra-op threads> <inter-op threads> [rounds]
<call dir>/call.json names the SavedModel directory, the feeds (placeholder, dtype, shape, raw
little-endian file) and the fetched outputs. Prints JSON: the call's median wall time, and per op
type the time of traced calls (mean over rounds). With one inter-op thread the ops run one at a
time, so their times add up to the call. One session per process: a process's sessions share the
first one's inter-op threads.
"""
import collections
import json
import os
import sys
import time

import numpy as np
import tensorflow as tf

DTYPES = {"float32": np.float32, "int32": np.int32}


def session(call, intra, inter):
    graph = tf.Graph()
    config = tf.compat.v1.ConfigProto(intra_op_parallelism_threads=intra, inter_op_parallelism_threads=inter)
    sess = tf.compat.v1.Session(graph=graph, config=config)
    tf.compat.v1.saved_model.loader.load(sess, ["serve"], call["dir"])
    feeds = {
        graph.get_tensor_by_name(f["name"]): np.fromfile(f["path"], dtype=DTYPES[f["dtype"]]).reshape(f["shape"])
        for f in call["feeds"]
    }
    fetches = [graph.get_tensor_by_name(name) for name in call["outputs"]]
    return lambda **kw: sess.run(fetches, feeds, **kw)


def main():
    where, intra, inter = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    rounds = int(sys.argv[4]) if len(sys.argv) > 4 else 10
    with open(os.path.join(where, "call.json")) as f:
        call = json.load(f)
    for feed in call["feeds"]:
        feed["path"] = os.path.join(where, feed["file"])
    run = session(call, intra, inter)
    for _ in range(5):
        run()
    times = []
    for _ in range(30):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    options = tf.compat.v1.RunOptions(trace_level=tf.compat.v1.RunOptions.FULL_TRACE)
    by_op = collections.defaultdict(lambda: [0.0, 0.0])
    for _ in range(rounds):
        metadata = tf.compat.v1.RunMetadata()
        run(options=options, run_metadata=metadata)
        for device in metadata.step_stats.dev_stats:
            for node in device.node_stats:
                label = node.timeline_label
                op = label.split("=", 1)[1].split("(", 1)[0].strip() if "=" in label else node.node_name
                by_op[op][0] += node.all_end_rel_micros / 1e3 / rounds
                by_op[op][1] += 1 / rounds
    ops = sorted(([op, ms, round(n)] for op, (ms, n) in by_op.items()), key=lambda r: -r[1])
    print(json.dumps({"wall_ms": float(np.median(times) * 1e3), "ops": ops}))


if __name__ == "__main__":
    main()
