/**
 * What each imported host runs. Labforge machines have no registry: a Debian or Ubuntu image
 * (and Instruqt's own shell images, Debian-based) becomes `labforge/base`, built here from
 * Debian packages, so the lab runs offline; any other image must already be in the local
 * engine or be pullable now, and one that is neither is reported at import time. The engine is
 * asked through an ImageProbe the caller supplies (the CLI's talks to Docker), so this layer
 * knows no container backend.
 */
import { problemAt, type Problem, type YamlSource } from '../../labs/positions';
import type { HostPlan } from './config';

export const BASE_IMAGE = 'labforge/base';

/** What the engine says about one image. Errors are values: the reason is a sentence for the report. */
export type ImageStatus = { status: 'present' } | { status: 'pulled' } | { status: 'missing'; reason: string } | { status: 'unreachable'; reason: string };

export interface ImageProbe {
  /** Whether the local engine has `image` (a builtin name: whether it is built), pulling any other one it lacks. */
  check(image: string): Promise<ImageStatus>;
}

export interface ImageOutcome {
  host: string;
  /** As config.yml named it. */
  image: string;
  /** What the imported host runs. */
  runs: string;
  status: 'mapped' | 'present' | 'pulled' | 'missing' | 'unchecked';
}

/** Debian and Ubuntu under their usual names, and Instruqt's shell images (gcr.io/instruqt/...), which are Debian-based. */
const BASE_FAMILY = [
  /^(docker\.io\/)?(library\/)?(debian|ubuntu)([:@]|$)/,
  /^(docker\.io\/)?bitnami\/minideb([:@]|$)/,
  /^(docker\.io\/)?(library\/)?buildpack-deps([:@]|$)/,
  /^gcr\.io\/instruqt\//,
];

export function mapsToBase(image: string): boolean {
  return BASE_FAMILY.some((re) => re.test(image.toLowerCase()));
}

/** Sets each host's image to what it will run, and reports the mapping and what the engine lacks. */
export async function resolveImages(src: YamlSource, hosts: HostPlan[], probe: ImageProbe, problems: Problem[]): Promise<ImageOutcome[]> {
  const outcomes: ImageOutcome[] = [];
  const statuses = new Map<string, Promise<ImageStatus>>();
  const ask = (image: string) => statuses.get(image) ?? statuses.set(image, probe.check(image)).get(image)!;
  let unreachable: string | undefined;

  for (const host of hosts) {
    const at = [...host.at, 'image'];
    const original = host.image;
    if (mapsToBase(original)) {
      host.image = BASE_IMAGE;
      outcomes.push({ host: host.name, image: original, runs: BASE_IMAGE, status: 'mapped' });
      const msg = `"${original}" runs as ${BASE_IMAGE} (Debian bookworm built here, no registry needed): tools the original image had beyond bash, coreutils, socat, iproute2, tcpdump, jq, curl, ssh and nano must be installed by a setup script`;
      problems.push(problemAt(src, at, msg, 'warning'));
      continue;
    }
    const s = await ask(original);
    if (s.status === 'unreachable') {
      unreachable ??= s.reason;
      outcomes.push({ host: host.name, image: original, runs: original, status: 'unchecked' });
    } else if (s.status === 'missing') {
      outcomes.push({ host: host.name, image: original, runs: original, status: 'missing' });
      const msg = `image "${original}" is not on this machine and cannot be pulled (${s.reason}): the host cannot start until it is loaded (docker load) or the image is changed`;
      problems.push(problemAt(src, at, msg));
    } else {
      outcomes.push({ host: host.name, image: original, runs: original, status: s.status });
      problems.push(problemAt(src, at, `"${original}" is kept; its own command does not run (Labforge hosts run \`sleep infinity\`)`, 'warning'));
    }
  }

  if (outcomes.some((o) => o.status === 'mapped')) {
    const base = await ask(BASE_IMAGE);
    if (base.status === 'unreachable') unreachable ??= base.reason;
    else if (base.status === 'missing')
      problems.push(
        problemAt(
          src,
          ['containers'],
          `${BASE_IMAGE} is not built on this machine yet: \`labforge images build\` builds it (from a Debian mirror), or the first session does`,
          'warning',
        ),
      );
  }
  if (unreachable) {
    const unchecked = outcomes.filter((o) => o.status === 'unchecked').map((o) => o.image);
    const which = unchecked.length ? `images ${unchecked.join(', ')} were not checked` : `whether ${BASE_IMAGE} is built was not checked`;
    problems.push(problemAt(src, ['containers'], `the Docker engine did not answer (${unreachable}): ${which}`, 'warning'));
  }
  return outcomes;
}
