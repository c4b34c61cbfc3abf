import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

/** Debian's Chromium (`apt-get install chromium`, which `.ci/run` does), or the one CHROMIUM_PATH names. */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/**
 * A real headless Chromium, or undefined (with the reason) where none is installed — never in CI,
 * where a missing browser fails the test instead of skipping it.
 */
export async function launchChromium(): Promise<{ browser?: Browser; missing?: string }> {
  if (!existsSync(CHROMIUM)) {
    const missing = `no Chromium at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)`;
    if (process.env.CI) throw new Error(missing);
    return { missing };
  }
  return { browser: await chromium.launch({ executablePath: CHROMIUM }) };
}
