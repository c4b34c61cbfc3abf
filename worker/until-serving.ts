/** How long a server that answers but is still starting ("Frontend is not healthy yet") is waited for. */
const STARTING_SERVER_WAIT_MS = 15_000;
const RETRY_DELAY_MS = 500;

/**
 * Calls `connect` again while it fails because the Temporal server accepts connections but is
 * still starting ("Frontend is not healthy yet"), for up to `waitMs`; any other failure, or that
 * one after the wait, is thrown as is.
 */
export async function untilServing<T>(connect: () => Promise<T>, waitMs = STARTING_SERVER_WAIT_MS): Promise<T> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    try {
      return await connect();
    } catch (error) {
      if (!/not healthy yet/i.test((error as Error).message) || Date.now() >= deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, RETRY_DELAY_MS));
    }
  }
}
