/** `labforge new <slug> [--driver docker|kind] [--dir labs]`: a lab that lints and tests clean, to edit from. */
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { DRIVERS, scaffoldLab, slugProblem, type ScaffoldDriver } from '../../lib/authoring/scaffold';
import { displayPath } from '../../lib/labs/positions';

const USAGE = 'usage: labforge new <slug> [--driver docker|kind] [--dir labs]\n';

/** Exit 0 when written; 1 when the folder exists (nothing is touched); 2 for bad arguments. */
export async function run(args: string[], out: NodeJS.WritableStream = process.stdout, err: NodeJS.WritableStream = process.stderr): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args, allowPositionals: true, options: { driver: { type: 'string', default: 'docker' }, dir: { type: 'string', default: 'labs' } } });
  } catch (e) {
    err.write(`labforge new: ${(e as Error).message}\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (positionals.length !== 1) return fail(err, 2, `labforge new needs one slug, e.g. labforge new my-lab\n${USAGE}`);
  const [slug] = positionals;
  const driver = values.driver as ScaffoldDriver;
  if (!DRIVERS.includes(driver)) return fail(err, 2, `labforge new: --driver must be ${DRIVERS.join(' or ')} (got "${values.driver}")\n`);
  const bad = slugProblem(slug);
  if (bad) return fail(err, 2, `labforge new: ${bad}; it names the lab's folder and its URL\n`);

  const root = path.resolve(values.dir, slug);
  const shown = displayPath(root);
  fs.mkdirSync(path.dirname(root), { recursive: true });
  try {
    // Not recursive: fails when anything is already there, so an existing lab is never overwritten.
    fs.mkdirSync(root);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    return fail(err, 1, `labforge new: ${shown} already exists: pick another slug or --dir, or remove it first\n`);
  }
  const files = scaffoldLab(slug, driver);
  for (const f of files) {
    const abs = path.join(root, f.path);
    fs.mkdirSync(path.dirname(abs), { recursive: true });
    fs.writeFileSync(abs, f.text);
    fs.chmodSync(abs, f.executable ? 0o755 : 0o644); // not left to the umask: lint wants scripts executable
  }
  const testLine = driver === 'kind' ? `  labforge test ${shown}    (needs kind and the labforge/k8s-workstation image)` : `  labforge test ${shown}`;
  out.write(
    `Created ${shown} (${driver}): ${files.length} files, ${files.filter((f) => f.path.endsWith('/assignment.md')).length} challenges.\n` +
      `Next: edit ${displayPath(path.join(root, 'track.yml'))} (its first lines say what to change), then\n` +
      `  labforge lint ${shown}\n${testLine}\n`,
  );
  return 0;
}

function fail(err: NodeJS.WritableStream, code: number, message: string): number {
  err.write(message);
  return code;
}
