// Owns measuring how much resident memory a piece of work adds at its peak (sampled while it runs).

export async function peakRssGrowth<T>(work: () => Promise<T>): Promise<{ outcome: unknown; growthBytes: number }> {
  const baseline = process.memoryUsage().rss;
  let peak = baseline;
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 5);
  try {
    const outcome = await work().then(
      (value) => value,
      (error: unknown) => error,
    );
    return { outcome, growthBytes: Math.max(peak, process.memoryUsage().rss) - baseline };
  } finally {
    clearInterval(sampler);
  }
}
