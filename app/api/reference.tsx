import type { ReactNode } from 'react';
import { openApiDocument } from '@/lib/http/openapi';
import { refName, schemaText, type JsonSchema } from './schema-text';
import { TableHead } from '@/components/TableHead';

/** The parts of the OpenAPI document the page shows. */
interface Operation {
  summary?: string;
  description?: string;
  security?: Record<string, string[]>[];
  parameters?: { name: string; in: string; required?: boolean; description?: string; schema?: JsonSchema }[];
  requestBody?: { required?: boolean; content: Record<string, { schema?: JsonSchema }> };
  responses: Record<string, { description: string; content?: Record<string, { schema?: JsonSchema }> }>;
}
interface Document {
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, JsonSchema & { description?: string }> };
}

const CREDENTIAL: Record<string, string> = { learnerCookie: 'learner cookie', bearerAuth: 'grader token' };

function access(security: Operation['security']): string {
  if (!security?.length) return 'anyone';
  const ways = security.map((r) => Object.keys(r).map((k) => CREDENTIAL[k] ?? k)[0] ?? 'none');
  return ways.includes('none') ? `anyone (a ${ways.filter((w) => w !== 'none').join(' or a ')} changes the answer)` : ways.join(' or ');
}

/** Descriptions are CommonMark; the only markup they use is `code`. */
const Text = ({ children }: { children?: string }) => <>{(children ?? '').split('`').map((part, i) => (i % 2 ? <code key={i}>{part}</code> : part))}</>;

/** A named schema links to its entry in the list at the end; any other is written out. */
const Type = ({ schema }: { schema?: JsonSchema }) =>
  schema?.$ref ? (
    <a href={`#schema-${refName(schema.$ref)}`}>
      <code>{refName(schema.$ref)}</code>
    </a>
  ) : (
    <code>{schemaText(schema)}</code>
  );

/** A data table with column headers and a caption naming it, as screen readers announce it. */
function Table({ caption, columns, rows }: { caption: string; columns: string[]; rows: ReactNode[][] }) {
  return (
    <table>
      <caption>{caption}</caption>
      <TableHead columns={columns} />
      <tbody>
        {rows.map((cells, r) => (
          <tr key={r}>
            {cells.map((cell, c) => (
              <td key={c}>{cell}</td>
            ))}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

const anchor = (method: string, path: string) => `${method}${path}`.replace(/[^a-zA-Z0-9]+/g, '-').replace(/-$/, '');

/**
 * The API reference generated from the OpenAPI document: per route and method, what it does, who
 * may call it, its parameters, body and answers; then the named schemas. Server-rendered tables,
 * no script (the site's CSP allows none inline).
 */
export function ApiOperations() {
  const doc = openApiDocument() as unknown as Document;
  const ops = Object.entries(doc.paths).flatMap(([path, item]) => Object.entries(item).map(([method, op]) => ({ path, method: method.toUpperCase(), op })));
  return (
    <div className="markdown api-ref">
      <h2 id="reference">Reference</h2>
      <p>
        Generated from the OpenAPI 3.1 document, <a href="/api/v1/openapi.json">/api/v1/openapi.json</a>, itself generated from the schemas the routes validate
        their input with. Names such as <code>Session</code> are the schemas listed at the end.
      </p>
      <nav aria-label="Operations">
        <ul className="api-ref-index">
          {ops.map(({ path, method }) => (
            <li key={`${method} ${path}`}>
              <a href={`#${anchor(method, path)}`}>
                <code>
                  {method} {path}
                </code>
              </a>
            </li>
          ))}
        </ul>
      </nav>
      {ops.map(({ path, method, op }) => (
        <section key={`${method} ${path}`} className="api-op" aria-labelledby={anchor(method, path)}>
          <h3 id={anchor(method, path)}>
            <code>
              {method} {path}
            </code>
          </h3>
          <p>
            <Text>{op.summary}</Text>
          </p>
          {op.description && (
            <p>
              <Text>{op.description}</Text>
            </p>
          )}
          <p>Who: {access(op.security)}</p>
          {op.parameters?.length ? (
            <Table
              caption="Parameters"
              columns={['name', 'in', 'type', 'meaning']}
              rows={op.parameters.map((p) => [
                <>
                  <code>{p.name}</code>
                  {p.required ? '' : ' (optional)'}
                </>,
                p.in,
                <Type key="type" schema={p.schema} />,
                <>
                  <Text>{p.description}</Text>
                  {p.schema?.default !== undefined && ` (default ${JSON.stringify(p.schema.default)})`}
                </>,
              ])}
            />
          ) : null}
          {op.requestBody && (
            <p>
              Body{op.requestBody.required ? '' : ' (optional)'}: <Type schema={Object.values(op.requestBody.content)[0]?.schema} />
            </p>
          )}
          <Table
            caption="Responses"
            columns={['status', 'meaning', 'body']}
            rows={Object.entries(op.responses).map(([status, r]) => [
              status,
              <Text key="meaning">{r.description}</Text>,
              Object.entries(r.content ?? {}).map(([type, m], i) => (
                <span key={type}>
                  {i > 0 && ' or '}
                  {type === 'application/json' ? <Type schema={m.schema} /> : <code>{type}</code>}
                </span>
              )),
            ])}
          />
        </section>
      ))}
      <h2 id="schemas">Schemas</h2>
      <dl className="api-schemas">
        {Object.entries(doc.components.schemas).map(([name, s]) => (
          <div key={name}>
            <dt id={`schema-${name}`}>{name}</dt>
            <dd>
              <code>{schemaText(s)}</code>
            </dd>
          </div>
        ))}
      </dl>
    </div>
  );
}
