/**
 * A request body as text, refused with `tooLarge()` as soon as it passes `limit` bytes: a declared
 * Content-Length over it is refused before anything is read, a longer stream is read only up to
 * the first chunk past it (the rest is never pulled; the refusal closes the connection). The API's
 * JSON bodies (route.ts) and LTI's form posts (lib/lti/form.ts) each say 413 in their own way.
 */
export async function readBody(req: Request, limit: number, tooLarge: () => Error): Promise<string> {
  const declared = req.headers.get('content-length');
  if (declared !== null && /^\s*\d+\s*$/.test(declared) && Number(declared) > limit) throw tooLarge();
  if (!req.body) return '';
  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.byteLength;
      // Stop pulling, but do not cancel: cancelling destroys the socket before the 413 is sent.
      if (total > limit) throw tooLarge();
      chunks.push(value);
    }
  } finally {
    reader.releaseLock();
  }
  return new TextDecoder().decode(Buffer.concat(chunks));
}
