/**
 * A throwaway PostgreSQL 15 cluster for one benchmark run (test/support's helper: runs as the
 * `postgres` user when we are root, free loopback port, no fsync), run as a child of
 * bench/run.js and stopped like the Redis service.
 */
import { startPostgres } from '../../test/support/postgres';
import { serve } from './serve';

serve(async () => {
  const server = await startPostgres();
  return { info: { port: server.port, pid: server.pid }, stop: () => server.stop() };
});
