import type { TestProject } from 'vitest/node';
import { bridgeStatus, startLiveEvent, waitFor, type LiveEvent } from './live-event.ts';
import { startWranglerDev, type WranglerDev } from './wrangler-dev.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Base URL of the one `wrangler dev` the whole test run shares. */
    workerUrl: string;
    /** A live event (synthetic source → bridge A → this Worker) running for the whole test run. */
    liveEvent: string;
    /** The bridge of that event, for its /status counters. */
    liveBridgeUrl: string;
  }
}

let dev: WranglerDev | undefined;
let live: LiveEvent | undefined;

export async function setup(project: TestProject): Promise<void> {
  dev = await startWranglerDev();
  project.provide('workerUrl', dev.url);
  // One shared live event: pipeline and playback tests watch the same stream, which keeps a
  // 2-core machine at one encoder instead of one per test file.
  live = await startLiveEvent({ workerUrl: dev.url, event: `live-${Date.now().toString(36)}` });
  project.provide('liveEvent', live.event);
  project.provide('liveBridgeUrl', live.bridgeUrl);
  try {
    await waitFor(
      async () => ((await bridgeStatus(live!.bridgeUrl)).publish.published ?? 0) >= 8,
      60_000,
      'the live event to publish its first segments',
    );
  } catch (err) {
    throw new Error(`${(err as Error).message}\n--- bridge and source output ---\n${live.output()}`);
  }
}

export async function teardown(): Promise<void> {
  await live?.stop();
  await dev?.stop();
}
