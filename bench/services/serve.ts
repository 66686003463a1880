/** What a service process started. */
export interface Started {
  /** Sent to the orchestrator once the service answers (its port, its pid). */
  info: { port: number; pid: number | undefined };
  stop(): Promise<void>;
}

/**
 * Starts a service, tells the orchestrator (IPC `ready`), and stops it exactly once: on SIGTERM
 * or SIGINT, or when the IPC channel closes because the orchestrator exited or died.
 */
export function serve(start: () => Promise<Started>): void {
  if (!process.send) throw new Error('bench services are started by bench/run.js (needs IPC)');
  start().then(
    (started) => {
      let stopping = false;
      const stop = () => {
        if (stopping) return;
        stopping = true;
        // Bounded: give the server 20 s to stop, then leave (its own exit hooks kill it by pid).
        setTimeout(() => process.exit(1), 20_000).unref();
        void started.stop().finally(() => process.exit(0));
      };
      process.on('disconnect', stop);
      process.on('SIGTERM', stop);
      process.on('SIGINT', stop);
      process.send!({ type: 'ready', ...started.info });
    },
    (err: Error) => {
      console.error(err.stack ?? err.message);
      process.exit(1);
    },
  );
}
