/** Reading Prometheus text exposition (GET /metrics) in tests and benches. */

/** The value of one sample line (`name{labels} value`, labels in the order the server writes them), or undefined. */
export function metricSample(text: string, line: string): number | undefined {
  const found = text.split('\n').find((l) => l.startsWith(`${line} `));
  return found === undefined ? undefined : Number(found.slice(line.length + 1));
}
