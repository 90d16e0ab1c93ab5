/**
 * The built-in host images, as recipes: Debian packages (debootstrap from the Debian mirror), and
 * for some, release binaries downloaded at build time and verified against pinned checksums
 * (downloads.ts). A recipe's whole content names its tag (build.ts resolveImage), so a new package,
 * version or checksum builds a new image. Every image runs as root (no USER), `sleep infinity`.
 */
import type { PinnedDownload } from './downloads';
import { K8S_TOOLS } from './k8s-tools';

export interface ImageRecipe {
  suite: string;
  variant: 'minbase';
  packages: string[];
  /** Dockerfile-style instructions applied at import. */
  changes: string[];
  /** Release binaries installed in /usr/local/bin. `labforge images build` without names skips such an image: it is built when named or first used. */
  downloads?: PinnedDownload[];
}

export const BUILTIN_IMAGES: Record<string, ImageRecipe> = {
  'labforge/base': {
    suite: 'bookworm',
    variant: 'minbase',
    packages: [
      'bash',
      'socat',
      'iproute2',
      'tcpdump',
      'jq',
      'curl',
      'procps',
      'tmux',
      'iputils-ping',
      'nano',
      'less',
      'ca-certificates',
      'openssh-client',
      'openssh-server',
      'dnsutils',
      'netcat-openbsd',
      // Not for learners: the toolbox (toolbox.ts) copies these static binaries out of the image.
      'bash-static',
      'busybox-static',
      // Not for learners either (they lack NET_ADMIN): installs the host firewall rule (docker/boundary.ts).
      'iptables',
    ],
    changes: ['ENV LANG=C.UTF-8', 'CMD ["sleep","infinity"]'],
  },
  /**
   * The workstation of Kind labs, and the image of their pods (loaded into the nodes with `kind
   * load`; labs/cilium-multicast runs its ships, bases and reconciler on it). Runs as root in the
   * workstation; the reconciler pod runs it as uid 65534 with a read-only root, which needs nothing
   * more. What labs rely on:
   * - procps (`pkill`, `ps`, `watch`), bsdextrautils (`column`), ncurses-bin (`tput`), tmux, nano,
   *   less, bash-completion; coreutils, findutils, grep, sed, mawk come with minbase;
   * - socat 1.7.4 (bookworm). `socat -d -d` logs, for every datagram it receives, the sender's
   *   address and port on stderr: `N received packet with 18 bytes from AF=2 10.244.1.7:45678`.
   *   labs/cilium-multicast's exam relies on it: its text (06-exam/assignment.md, step 3) tells the
   *   learner to run the listener with `-d -d` to learn which ship sent the secret, and its solve
   *   starts the `exam-listener` pod with `socat -d -d`, so `kubectl logs exam-listener` shows the
   *   hidden ship's pod address;
   * - jq from Debian, and yq v4 (mikefarah's) downloaded: Debian's `yq` package is another tool;
   * - kubectl, helm, the cilium and hubble CLIs, downloaded (k8s-tools.ts for versions and sources).
   */
  'labforge/k8s-workstation': {
    suite: 'bookworm',
    variant: 'minbase',
    packages: [
      'bash',
      'bash-completion',
      'procps',
      'bsdextrautils',
      'ncurses-bin',
      'socat',
      'iproute2',
      'iputils-ping',
      'dnsutils',
      'jq',
      'curl',
      'ca-certificates',
      'tmux',
      'nano',
      'less',
    ],
    changes: ['ENV LANG=C.UTF-8', 'CMD ["sleep","infinity"]'],
    downloads: K8S_TOOLS,
  },
};
