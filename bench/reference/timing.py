"""Timing helpers shared by the PyTorch references of the throughput benchmarks."""
import time

import torch


def time_steps(step, warmup, steps):
    """Runs `step` `warmup` times untimed, then `steps` times; returns each timed call's seconds."""
    for _ in range(warmup):
        step()
    times = []
    for _ in range(steps):
        started = time.perf_counter()
        step()
        times.append(time.perf_counter() - started)
    return times


def time_inference(forward, reps):
    """Seconds of each of `reps` calls of `forward` without gradients, after 3 untimed ones."""
    with torch.no_grad():
        for _ in range(3):
            forward()
        times = []
        for _ in range(reps):
            started = time.perf_counter()
            forward()
            times.append(time.perf_counter() - started)
        return times
