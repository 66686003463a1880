import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';

/**
 * Allocation sampling for bench/profile.js (`--allocations=1`): which functions allocate the most,
 * garbage included (a CPU profile shows the collector's time, not who made it the work). Uses
 * V8's sampling heap profiler through the inspector, keeping the objects minor and major GCs
 * collected, between `start()` and `stop(file)`.
 */
export class AllocationSampler {
  private readonly session = new Session();

  private post<T>(method: string, params?: object): Promise<T> {
    return new Promise((resolve, reject) =>
      this.session.post(method, params ?? {}, (err, result) =>
        err ? reject(err) : resolve(result as T),
      ),
    );
  }

  async start(): Promise<void> {
    this.session.connect();
    await this.post('HeapProfiler.enable');
    await this.post('HeapProfiler.startSampling', {
      samplingInterval: 4096,
      includeObjectsCollectedByMajorGC: true,
      includeObjectsCollectedByMinorGC: true,
    });
  }

  /** Writes the profile (Chrome DevTools' .heapprofile format) to `file`. */
  async stop(file: string): Promise<void> {
    const { profile } = await this.post<{ profile: unknown }>('HeapProfiler.stopSampling');
    writeFileSync(file, JSON.stringify(profile));
    this.session.disconnect();
  }
}
