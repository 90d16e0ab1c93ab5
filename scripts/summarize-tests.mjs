// Adds up the vitest and Playwright JSON reports into one closing line that CI reads:
// "tests: N passed, N failed, N skipped".
import fs from 'node:fs';

// Arguments: the Playwright report, then the vitest reports (unit lane, Docker lane, fault phase).
const [e2eFile, ...vitestFiles] = process.argv.slice(2);
let passed = 0,
  failed = 0,
  skipped = 0;

const read = (f) => {
  try {
    return JSON.parse(fs.readFileSync(f, 'utf8'));
  } catch {
    return undefined;
  }
};

for (const file of vitestFiles) {
  const v = read(file);
  if (v) {
    passed += v.numPassedTests ?? 0;
    failed += (v.numFailedTests ?? 0) + (v.numRuntimeErrorTestSuites ?? 0);
    skipped += (v.numPendingTests ?? 0) + (v.numTodoTests ?? 0);
  } else failed += 1;
}

const e = read(e2eFile);
if (e?.stats) {
  passed += (e.stats.expected ?? 0) + (e.stats.flaky ?? 0);
  failed += e.stats.unexpected ?? 0;
  skipped += e.stats.skipped ?? 0;
} else failed += 1;

console.log(`tests: ${passed} passed, ${failed} failed, ${skipped} skipped`);
