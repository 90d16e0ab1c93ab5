/** `labforge test <lab-dir> [--json] [--junit FILE]`: walks every challenge of a lab on a fresh environment. */
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { formatTable, testLab, toJunit } from '../../lib/authoring/labtest';
import { loadConfig } from '../../lib/base/config';
import { createDrivers } from '../../lib/environments';
import { loadLabOrThrow } from '../../lib/labs/loader';

/** Progress lines then the table (or only the JSON document: logs go to stderr); exit 0 only when every challenge passed. */
export async function run(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { json: { type: 'boolean', default: false }, junit: { type: 'string' } },
  });
  if (positionals.length !== 1) {
    process.stderr.write('usage: labforge test <lab-dir> [--json] [--junit FILE]\n');
    return 2;
  }
  const lab = await loadLabOrThrow(path.resolve(positionals[0]));
  const config = loadConfig();
  const drivers = createDrivers({
    firewall: config.hostFirewall,
    diskLimits: config.diskLimits,
    dataDir: config.dataDir,
    debianMirror: config.debianMirror,
    downloadMirror: config.downloadMirror,
    kindNetwork: config.kindNetwork,
  });
  const driver = drivers[lab.track.environment.driver];
  if (!driver) throw new Error(`no ${lab.track.environment.driver} driver on this machine`);
  const problems = await driver.prerequisites(lab.track.environment);
  if (problems.length) throw new Error(problems.map((p) => `${p.what}: ${p.fix}`).join('\n'));
  const say = values.json ? () => {} : (s: string) => process.stdout.write(`${s}\n`);
  say(`Testing ${lab.track.slug} (${lab.challenges.length} challenges) on ${driver.name}`);
  const report = await testLab(lab, driver, say);
  if (values.junit) fs.writeFileSync(values.junit, toJunit(report));
  process.stdout.write(values.json ? `${JSON.stringify(report, null, 2)}\n` : `\n${formatTable(report)}\n`);
  return report.ok ? 0 : 1;
}
