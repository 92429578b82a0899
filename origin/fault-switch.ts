/**
 * A fault an operator can switch on in one origin object (one event in one region) to prove the
 * edge fails over (docs/operations.md, "Fault injection (local only)"). In memory only: it never
 * survives the object, and the edge refuses to set it unless the Worker var
 * `ALLOW_FAULT_INJECTION` is "true" (local development). Only player RPCs are affected; ingest
 * and operator views keep working, so the pipelines keep publishing into the failing region.
 * - `error`: every player RPC throws;
 * - `hang`: every player RPC waits: when the fault changes it goes on as the new mode says (a
 *   late answer after `none`), after HANG_MS it throws;
 * - `defective`: served segments carry the defect INJECTED_DEFECT besides their own;
 * - `none`: no fault.
 */
export const FAULT_MODES = ['none', 'error', 'hang', 'defective'] as const;
export type FaultMode = (typeof FAULT_MODES)[number];

/** The defect a `defective` origin adds to every segment it serves. */
export const INJECTED_DEFECT = 'injected-fault';
/** The longest a `hang` holds one player request. */
export const HANG_MS = 60_000;

export interface FaultView {
  mode: FaultMode;
  /** When this mode was set (ISO-8601), null when never set. */
  since: string | null;
  /** Player requests held by a `hang` right now. */
  hanging: number;
  /** Held requests this change let go (only in the answer to a change). */
  released?: number;
}

export class FaultSwitch {
  private mode: FaultMode = 'none';
  private since: number | undefined;
  /** Held `hang` requests: each releases itself when the fault changes. */
  private readonly held = new Set<(byChange: boolean) => void>();

  set(mode: FaultMode, nowMs = Date.now()): FaultView {
    this.mode = mode;
    this.since = nowMs;
    const held = mode === 'hang' ? [] : [...this.held];
    for (const release of held) release(true);
    return { ...this.view(), released: held.length };
  }

  view(): FaultView {
    return {
      mode: this.mode,
      since: this.since === undefined ? null : new Date(this.since).toISOString(),
      hanging: this.held.size,
    };
  }

  /** Call first in every player RPC: throws (`error`), waits (`hang`), else returns at once. */
  async enter(): Promise<void> {
    if (this.mode === 'error') throw new Error('injected fault: this origin fails every player request');
    if (this.mode !== 'hang') return;
    const changed = await new Promise<boolean>((resolve) => {
      const release = (byChange: boolean) => {
        clearTimeout(timer);
        this.held.delete(release);
        resolve(byChange);
      };
      const timer = setTimeout(() => release(false), HANG_MS);
      this.held.add(release);
    });
    if (!changed) throw new Error(`injected fault: this player request hung for ${HANG_MS} ms`);
    return this.enter();
  }

  /** The defects a served segment carries: its own, plus INJECTED_DEFECT while `defective`. */
  defects(own: string[]): string[] {
    return this.mode === 'defective' && !own.includes(INJECTED_DEFECT) ? [...own, INJECTED_DEFECT] : own;
  }
}
