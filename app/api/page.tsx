import fs from 'node:fs';
import path from 'node:path';
import { Markdown } from '@/components/Markdown';
import { ApiOperations } from './reference';

export const dynamic = 'force-dynamic';

const SECTION = '## HTTP API';

/**
 * The HTTP API reference, for people: the README's API section, so the routes are described in
 * one place (the README is what a user reads first; this page is where the nav points), then the
 * per-route reference generated from the OpenAPI document.
 */
export default function ApiReference() {
  const readme = fs.readFileSync(path.join(process.cwd(), 'README.md'), 'utf8');
  const start = readme.indexOf(SECTION);
  const end = start < 0 ? -1 : readme.indexOf('\n## ', start + SECTION.length);
  const section =
    start < 0 ? 'The API reference is in the README (its "HTTP API" section).' : readme.slice(readme.indexOf('\n', start) + 1, end < 0 ? undefined : end);
  return (
    <main className="doc-page">
      <h1>HTTP API</h1>
      <Markdown source={section} />
      <ApiOperations />
    </main>
  );
}
