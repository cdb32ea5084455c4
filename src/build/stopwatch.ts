/** Wall-clock time per stage, summed across architectures, for --json and the benchmark. */
export class Stopwatch {
  readonly timings: Record<string, number> = {};

  async time<T>(stage: string, fn: () => Promise<T>): Promise<T> {
    const start = performance.now();
    try {
      return await fn();
    } finally {
      this.timings[stage] = Math.round((this.timings[stage] ?? 0) + performance.now() - start);
    }
  }
}
