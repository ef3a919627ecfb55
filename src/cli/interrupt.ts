/**
 * Ctrl-C handling for long-running commands: the first SIGINT or SIGTERM
 * aborts the returned signal — the command then commits and exits cleanly —
 * and a second one exits at once (status 130), for when stopping hangs.
 */
export interface Interrupt {
  readonly signal: AbortSignal;
  /** Removes the handlers, restoring Node's default (exit on Ctrl-C). */
  dispose(): void;
}

/** Installs the handlers; `onFirst` is told which signal came (e.g. to print "stopping…"). */
export function onInterrupt(onFirst: (signal: NodeJS.Signals) => void = () => {}): Interrupt {
  const controller = new AbortController();
  const handler = (sig: NodeJS.Signals): void => {
    if (controller.signal.aborted) process.exit(130);
    controller.abort();
    onFirst(sig);
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return {
    signal: controller.signal,
    dispose() {
      process.off('SIGINT', handler);
      process.off('SIGTERM', handler);
    },
  };
}
