/** Calls `stop` once on the first Ctrl-C or SIGTERM; a second Ctrl-C exits at once. */
export function onShutdownSignal(stop: () => void): void {
  let stopping = false;
  const handler = () => {
    if (stopping) process.exit(130);
    stopping = true;
    process.stderr.write('\nshutting down (Ctrl-C again to force)…\n');
    stop();
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
}
