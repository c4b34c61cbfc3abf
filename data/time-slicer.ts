/** How long a data step computes before it gives way; well under any heartbeat timeout. */
const SLICE_MS = 50;

/**
 * Lets a long synchronous loop (cleaning or tokenizing a chunk of rows) give way to the rest of
 * its worker process — other activities' heartbeats, cancellation, queries — by yielding to the
 * event loop once a slice of time has passed. Call `pause()` between rows and await it; within a
 * slice it costs nothing but a check of the clock.
 */
export class TimeSlicer {
  private sliceStart = performance.now();

  constructor(private readonly sliceMs = SLICE_MS) {}

  pause(): Promise<void> | undefined {
    if (performance.now() - this.sliceStart < this.sliceMs) return undefined;
    return new Promise((resolve) =>
      setImmediate(() => {
        this.sliceStart = performance.now();
        resolve();
      }),
    );
  }
}
