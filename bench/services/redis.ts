/**
 * A throwaway redis-server for one benchmark run (test/support's helper: free loopback port, no
 * persistence), run as a child of bench/run.js. It stops the server when told to (SIGTERM) or
 * when the orchestrator goes away (the IPC channel closes), so the server never outlives the run.
 */
import { startRedisServer } from '../../test/support/redis-server';
import { serve } from './serve';

serve(async () => {
  const server = await startRedisServer();
  return { info: { port: server.port, pid: server.pid }, stop: () => server.dispose() };
});
