import { chromium, type Browser } from 'playwright-core';

/** Debian's Chromium; override with CHROMIUM_PATH. Its MSE plays H.264/AAC but not HEVC/E-AC-3. */
export const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/**
 * Launch headless Chromium for player tests: no background traffic, autoplay allowed (the player
 * page starts muted playback without a click). Playwright gives every launch a fresh temporary
 * profile and deletes it on close (it refuses a --user-data-dir argument to launch()); use
 * `browser.newContext()` per test for isolated cookies and cache.
 */
export async function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--autoplay-policy=no-user-gesture-required',
    ],
  });
}

/**
 * Start Chromium now, for a beforeAll that then waits for something else (an event's first
 * segments, a server): the launch, seconds on a loaded 2-core machine, overlaps that wait.
 * `get()` gives the browser (or the launch's error); `close()` closes it if it started, also when
 * the beforeAll failed before calling `get()`.
 */
export function startChromium(): { get(): Promise<Browser>; close(): Promise<void> } {
  const launching = launchChromium();
  // Handled here so a failed launch is not an unhandled rejection while the caller waits elsewhere.
  const settled = launching.catch(() => undefined);
  return {
    get: () => launching,
    close: async () => {
      await (await settled)?.close();
    },
  };
}
