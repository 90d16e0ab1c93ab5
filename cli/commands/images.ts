/** `labforge images build [name...]`: builds the named builtin images (default: all) with no registry. */
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
  const builder = new ImageBuilder({ dataDir: config.dataDir, mirror: config.debianMirror });
  for (const name of names.length ? names : Object.keys(BUILTIN_IMAGES)) {
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
  return 0;
}
