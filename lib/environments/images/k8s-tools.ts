/**
 * The Kubernetes CLIs of `labforge/k8s-workstation`, pinned: version, official URL and the SHA-256
 * of each file for linux/amd64 and linux/arm64. Debian packages none of them (and bookworm's `yq`
 * is kislyuk's Python jq wrapper 3.x, not mikefarah's yq v4 that labs use), so the image build
 * downloads them (downloads.ts) and installs each only if its checksum matches.
 *
 * Versions go with the Cilium the Kind labs pin (labs/cilium-multicast: chart 1.17.6): hubble 1.17.x
 * is that release's CLI, cilium-cli v0.18.5 installs and inspects 1.17.6; kubectl 1.33 talks to API
 * servers 1.32–1.34 (kubectl's one-minor-version skew), the node images of recent kind releases.
 *
 * Every checksum was copied from a public file that pins it, named below with its commit; none was
 * computed here (this build machine has no route to the release servers). To move a version, take
 * the new checksums from the project's own published checksum files (`.sha256`/`.sha256sum` next
 * to each release file; yq: `checksums` with `checksums_hashes_order`), never from a local download.
 */
import type { PinnedDownload } from './downloads';

/**
 * kubectl v1.33.3, the binary itself.
 * Sources: kubernetes-sigs/kubespray roles/kubespray_defaults/vars/main/checksums.yml at
 * cf2332c38f69 (`kubectl_checksums`), and cert-manager/makefile-modules modules/tools/00_mod.mk at
 * f2dbe741c94d (`kubectl_linux_{amd64,arm64}_SHA256SUM`, kubectl=v1.33.3): the same two values.
 */
export const KUBECTL: PinnedDownload = {
  name: 'kubectl',
  version: 'v1.33.3',
  url: 'https://dl.k8s.io/release/v1.33.3/bin/linux/{arch}/kubectl',
  sha256: {
    amd64: '2fcf65c64f352742dc253a25a7c95617c2aba79843d1b74e585c69fe4884afb0',
    arm64: '3d514dbae5dc8c09f773df0ef0f5d449dfad05b3aca5c96b13565f886df345fd',
  },
};

/**
 * Helm v3.18.4, the release archive.
 * Sources: kubespray checksums.yml at 46dbdd3994b3 (`helm_archive_checksums`), and
 * cert-manager/makefile-modules modules/tools/00_mod.mk at f2dbe741c94d (helm=v3.18.4,
 * `helm_linux_{amd64,arm64}_SHA256SUM`): the same two values, also those of Helm's v3.18.4
 * release notes (get.helm.sh/helm-v3.18.4-linux-*.tar.gz.sha256sum).
 */
export const HELM: PinnedDownload = {
  name: 'helm',
  version: 'v3.18.4',
  url: 'https://get.helm.sh/helm-v3.18.4-linux-{arch}.tar.gz',
  member: 'linux-{arch}/helm',
  sha256: {
    amd64: 'f8180838c23d7c7d797b208861fecb591d9ce1690d8704ed1e4cb8e2add966c1',
    arm64: 'c0a45e67eef0c7416a8a8c9e9d5d2d30d70e4f4d3f7bea5de28241fffa8f3b89',
  },
};

/**
 * cilium-cli v0.18.5, the release archive (cilium-linux-<arch>.tar.gz).
 * Source: kubespray checksums.yml at 46dbdd3994b3 (`ciliumcli_binary_checksums`, which kubespray
 * checks against that archive: `ciliumcli_download_url` in defaults/main/download.yml). The amd64
 * value is also pinned by a public CI script that then runs `cilium install --version 1.17.6`.
 */
export const CILIUM_CLI: PinnedDownload = {
  name: 'cilium',
  version: 'v0.18.5',
  url: 'https://github.com/cilium/cilium-cli/releases/download/v0.18.5/cilium-linux-{arch}.tar.gz',
  member: 'cilium',
  sha256: {
    amd64: 'e63893745b67f58032d9b4f142ae7d6e97286df66af27ff24cd72dc81efc9ff9',
    arm64: '54a517c05e1f60c4d3230191edcdc80647dc666173896a8e724817694aae4194',
  },
};

/**
 * hubble v1.17.5, the release archive (hubble-linux-<arch>.tar.gz).
 * Sources: Cilium's own images/cilium/download-hubble.sh at hubble_version="v1.17.5" (the
 * `hubble_sha256[amd64|arm64]` its agent image is built with), and the Arch User Repository's
 * hubble-bin PKGBUILD, pkgver=1.17.5 (`sha256sums_x86_64`, `sha256sums_aarch64`): the same two values.
 */
export const HUBBLE: PinnedDownload = {
  name: 'hubble',
  version: 'v1.17.5',
  url: 'https://github.com/cilium/hubble/releases/download/v1.17.5/hubble-linux-{arch}.tar.gz',
  member: 'hubble',
  sha256: {
    amd64: '448f3b50326d1ea05e18a314e5d1f75174073188290a90d9e8f555e35e169ab0',
    arm64: '90f538d16f2d18d8bceea91226e253033eb84365f6bb3d74172d468fc5d4739b',
  },
};

/**
 * yq v4.47.2 (mikefarah's, the Go one), the binary itself (yq_linux_<arch>).
 * Source: cert-manager/makefile-modules modules/tools/00_mod.mk at 2a7456bfb2d9 (yq=v4.47.2,
 * `yq_linux_{amd64,arm64}_SHA256SUM`); the same pair is pinned in several other public scripts.
 */
export const YQ: PinnedDownload = {
  name: 'yq',
  version: 'v4.47.2',
  url: 'https://github.com/mikefarah/yq/releases/download/v4.47.2/yq_linux_{arch}',
  sha256: {
    amd64: '1bb99e1019e23de33c7e6afc23e93dad72aad6cf2cb03c797f068ea79814ddb0',
    arm64: '05df1f6aed334f223bb3e6a967db259f7185e33650c3b6447625e16fea0ed31f',
  },
};

export const K8S_TOOLS: PinnedDownload[] = [KUBECTL, HELM, CILIUM_CLI, HUBBLE, YQ];
