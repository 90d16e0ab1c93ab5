/**
 * Container image references as labs write them: `name[:tag][@sha256:<64 hex>]`, the name being
 * Docker's (optional registry host with port, then lowercase path components). The kind driver
 * loads `name:tag` into the nodes and checks the digest on the local engine, so both halves of a
 * pinned reference matter; the schema uses these rules to refuse a typo at lint time.
 */

export interface ImageRef {
  /** Registry and repository, without tag or digest: `quay.io/cilium/cilium`. */
  name: string;
  tag?: string;
  /** `sha256:<64 hex>`. */
  digest?: string;
}

// Docker's reference grammar (distribution/reference), reduced to what a lab needs.
const COMPONENT = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
const HOST = '(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::[0-9]+)?)';
const NAME_RE = new RegExp(`^(?:${HOST}/)?${COMPONENT}(?:/${COMPONENT})*$`);
const TAG_RE = /^[\w][\w.-]{0,127}$/;
const DIGEST_RE = /^sha256:[a-f0-9]{64}$/;

/** The parts of a reference, or a sentence saying what is wrong with it. */
export function parseImageRef(ref: string): ImageRef | string {
  const at = ref.indexOf('@');
  const digest = at >= 0 ? ref.slice(at + 1) : undefined;
  const named = at >= 0 ? ref.slice(0, at) : ref;
  if (digest !== undefined && !DIGEST_RE.test(digest)) return `"${digest}" is not a digest: write sha256: and 64 lowercase hex digits`;
  // A colon after the last slash starts the tag; one before it is a registry port.
  const colon = named.lastIndexOf(':');
  const hasTag = colon > named.lastIndexOf('/');
  const name = hasTag ? named.slice(0, colon) : named;
  const tag = hasTag ? named.slice(colon + 1) : undefined;
  if (!NAME_RE.test(name)) return `"${name}" is not an image name (lowercase letters, digits, separators . _ -, path parts split by /)`;
  if (tag !== undefined && !TAG_RE.test(tag)) return `"${tag}" is not an image tag (letters, digits, _ . -, at most 128)`;
  return { name, ...(tag !== undefined ? { tag } : {}), ...(digest !== undefined ? { digest } : {}) };
}

export function formatImageRef(r: ImageRef): string {
  return `${r.name}${r.tag ? `:${r.tag}` : ''}${r.digest ? `@${r.digest}` : ''}`;
}
