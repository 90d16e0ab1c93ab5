/**
 * `labforge import instruqt <track-dir> [--out labs/<slug>] [--force] [--json]`: an Instruqt
 * track folder → a Labforge lab (lib/authoring/instruqt). Images are checked against the local
 * Docker engine here, at the entry point, since lib/authoring may not talk to a backend.
 */
import { parseArgs } from 'node:util';
import { loadConfig } from '../../lib/base/config';
import { formatReport, importInstruqt, type ImageProbe, type ImageStatus } from '../../lib/authoring/instruqt';
import { BUILTIN_IMAGES, ImageBuilder, resolveImage } from '../../lib/environments/images/build';

const USAGE = 'usage: labforge import instruqt <track-dir> [--out labs/<slug>] [--force] [--json]\n';

/** How long a pull may try before the image counts as unavailable (an offline machine fails fast; a slow registry should not hang the import). */
const PULL_TIMEOUT_MS = 60_000;

/**
 * Exit 0 when every challenge was converted (and the lab lints), 1 otherwise (also: nothing
 * could be written, or --out is not empty without --force), 2 for usage mistakes. --json: the
 * report alone on stdout.
 */
export async function run(args: string[], probe: ImageProbe = engineProbe()): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      strict: true,
      options: { out: { type: 'string' }, force: { type: 'boolean' }, json: { type: 'boolean' } },
    });
  } catch (e) {
    process.stderr.write(`labforge import: ${(e as Error).message}\n${USAGE}`);
    return 2;
  }
  const [format, dir, ...extra] = parsed.positionals;
  if (format !== 'instruqt' || !dir || extra.length) {
    const why =
      format && format !== 'instruqt'
        ? `unknown format "${format}" (only instruqt is supported)`
        : !dir
          ? 'needs the track folder'
          : `unexpected argument "${extra[0]}"`;
    process.stderr.write(`labforge import: ${why}\n${USAGE}`);
    return 2;
  }
  const report = await importInstruqt({ source: dir, out: parsed.values.out, force: parsed.values.force, probe });
  process.stdout.write(parsed.values.json ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report));
  return report.ok ? 0 : 1;
}

/** The local Docker engine, through the image code the drivers use: present, pulled now, or why not. */
export function engineProbe(builder = new ImageBuilder({ dataDir: loadConfig().dataDir })): ImageProbe {
  return {
    async check(image: string): Promise<ImageStatus> {
      try {
        if (await builder.imageExists(resolveImage(image))) return { status: 'present' };
      } catch (e) {
        return { status: 'unreachable', reason: (e as Error).message };
      }
      if (BUILTIN_IMAGES[image]) return { status: 'missing', reason: 'not built yet' };
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer from the registry within ${PULL_TIMEOUT_MS / 1000} s`)), PULL_TIMEOUT_MS);
      });
      try {
        await Promise.race([builder.ensure(image), timeout]);
        return { status: 'pulled' };
      } catch (e) {
        return { status: 'missing', reason: (e as Error).message.replace(/^image "[^"]*" is not on this machine and could not be pulled: /, '') };
      } finally {
        clearTimeout(timer);
      }
    },
  };
}
