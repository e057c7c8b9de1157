// Every bench server answers SIGUSR2 with a settled memory reading: a full GC (the bench starts
// servers with --expose-gc), then what the process holds, as one JSON line on stdout.
export function reportMemoryOnSignal() {
  process.on('SIGUSR2', () => {
    globalThis.gc?.();
    const { rss, heapTotal, heapUsed, external } = process.memoryUsage();
    console.log(JSON.stringify({ memory: { rss, heapTotal, heapUsed, external } }));
  });
}
