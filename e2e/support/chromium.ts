/**
 * Debian's Chromium, never a downloaded browser (none can be fetched here), and the flags every
 * browser test launches it with: no sandbox (CI runs as root), nothing talking to Google.
 */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
