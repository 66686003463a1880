import { MemoryStore } from '../../lib/stores/memory.store';
import { storedSession } from '../support/records';
import { describeStoreContract } from './store-contract';
import { sleep } from '../support/time';

describeStoreContract('MemoryStore', async () => {
  const store = new MemoryStore();
  return { store, close: () => store.close() };
});

describe('MemoryStore', () => {
  it('drops the least recently written session past max', async () => {
    const store = new MemoryStore({ max: 2 });
    await store.set('a', storedSession({ n: 1 }));
    await store.set('b', storedSession({ n: 2 }));
    await store.set('a', storedSession({ n: 3 }));
    await store.set('c', storedSession({ n: 4 }));
    expect(await store.ids()).toEqual(['a', 'c']);
    store.close();
  });

  it('sweeps expired sessions out without waiting for them to be read', async () => {
    const store = new MemoryStore({ sweepInterval: 50 });
    await store.set('old', storedSession({}, 20));
    await store.set('young', storedSession({}, 3_600_000));
    await sleep(200);
    // ids() would sweep on its own; look at the map the sweep timer alone has cleaned.
    expect([...(store as unknown as { entries: Map<string, unknown> }).entries.keys()]).toEqual([
      'young',
    ]);
    store.close();
  });

  it('keeps its sweep timer from holding the process open, and stops it on close', () => {
    const store = new MemoryStore();
    const timer = (store as unknown as { sweepTimer?: NodeJS.Timeout }).sweepTimer;
    expect(timer?.hasRef()).toBe(false);
    store.onApplicationShutdown();
    expect((store as unknown as { sweepTimer?: NodeJS.Timeout }).sweepTimer).toBeUndefined();
  });

  it('rejects options it cannot honour, naming them', () => {
    expect(() => new MemoryStore({ max: 0 })).toThrow(
      'MemoryStore option "max" must be a positive integer, got 0',
    );
    expect(() => new MemoryStore({ ttl: -1 })).toThrow('MemoryStore option "ttl"');
  });
});
