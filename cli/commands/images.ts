/**
 * `labforge images build [name...]`: builds the named builtin images with no registry. Without
 * names, the images every machine can build from the Debian mirror alone; those that download
 * release binaries (labforge/k8s-workstation) are built when named, or when a lab first uses them.
 */
import { loadConfig } from '../../lib/base/config';
import type { EnvironmentError } from '../../lib/environments/driver';
import { BUILTIN_IMAGES, ImageBuilder, resolveImage } from '../../lib/environments/images/build';

/** Prints a line per step of each image; returns the exit code (2: an unknown name, 1: a build failed). */
export async function run(names: string[]): Promise<number> {
  const unknown = names.filter((n) => !BUILTIN_IMAGES[n]);
  if (unknown.length) {
    process.stderr.write(`unknown image ${unknown.join(', ')}; builtin images: ${Object.keys(BUILTIN_IMAGES).join(', ')}\n`);
    return 2;
  }
  const config = loadConfig();
  const builder = new ImageBuilder({ dataDir: config.dataDir, mirror: config.debianMirror, downloadMirror: config.downloadMirror });
  const all = Object.keys(BUILTIN_IMAGES);
  const onDemand = all.filter((n) => BUILTIN_IMAGES[n].downloads?.length);
  for (const name of names.length ? names : all.filter((n) => !onDemand.includes(n))) {
    const ref = resolveImage(name);
    if (await builder.imageExists(ref)) {
      process.stdout.write(`${name}: ${ref} is up to date\n`);
      continue;
    }
    try {
      await builder.build(name, (p) =>
        process.stdout.write(`${name}: ${p.status === 'running' ? (p.detail ?? p.step) : `${p.status} in ${((p.ms ?? 0) / 1000).toFixed(1)} s`}\n`),
      );
      process.stdout.write(`${name}: built ${ref}\n`);
    } catch (err) {
      const e = err as EnvironmentError;
      process.stderr.write(`${name}: ${e.message}${e.hint ? `\n  fix: ${e.hint}` : ''}\n`);
      return 1;
    }
  }
  if (!names.length && onDemand.length) {
    process.stdout.write(`not built now (they download release binaries): ${onDemand.join(', ')}; \`labforge images build <name>\` builds one\n`);
  }
  return 0;
}
