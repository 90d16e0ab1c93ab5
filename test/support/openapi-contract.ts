/**
 * What the OpenAPI contract test (test/http/openapi.test.ts) checks answers with: the route files
 * found on disk, and the document's schemas compiled by ajv (JSON Schema 2020-12, the dialect of
 * OpenAPI 3.1). Every message names the method, path and status it is about. Not a test file.
 */
import fs from 'node:fs';
import path from 'node:path';
import Ajv2020, { type ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { expect } from 'vitest';
import type { Handler } from './graders';

const API_DIR = path.resolve(__dirname, '../../app/api/v1');
const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];

export interface RouteFile {
  /** As the document names it: `/api/v1/sessions/{id}/check`. */
  path: string;
  file: string;
  handlers: Record<string, Handler<Record<string, string>>>;
}

/** Every route.ts under app/api/v1 and the methods it exports: a new route is found without anyone listing it. */
export async function discoverRoutes(): Promise<RouteFile[]> {
  const files = fs.readdirSync(API_DIR, { recursive: true, encoding: 'utf8' }).filter((f) => path.basename(f) === 'route.ts');
  return Promise.all(
    files.sort().map(async (rel) => {
      const mod = (await import(path.join(API_DIR, rel))) as Record<string, unknown>;
      const segments = path.dirname(rel).split(path.sep);
      return {
        path: `/api/v1/${segments.map((s) => s.replace(/^\[(.+)\]$/, '{$1}')).join('/')}`,
        file: `app/api/v1/${rel}`,
        handlers: Object.fromEntries(Object.entries(mod).filter(([k]) => METHODS.includes(k))) as RouteFile['handlers'],
      };
    }),
  );
}

interface MediaType {
  schema?: unknown;
}
interface DocResponse {
  content?: Record<string, MediaType>;
  headers?: Record<string, { required?: boolean }>;
}
export interface DocOperation {
  responses: Record<string, DocResponse>;
  requestBody?: { content: Record<string, MediaType> };
  parameters?: Array<{ name: string; in: string; schema: unknown }>;
}
export interface Doc {
  paths: Record<string, Record<string, DocOperation>>;
  components: { schemas: Record<string, unknown> };
}

const DOC_ID = 'https://labforge.invalid/openapi.json';
const pointer = (...parts: string[]) => parts.map((p) => p.replace(/~/g, '~0').replace(/\//g, '~1')).join('/');

export class Contract {
  readonly ajv = new Ajv2020({ strict: false, allErrors: true });
  private compiled = new Map<string, ValidateFunction>();
  /** `GET /api/v1/labs 200` for every answer checked. */
  readonly checked = new Set<string>();

  constructor(readonly doc: Doc) {
    addFormats(this.ajv);
    // The whole document as one schema resource, so its `#/components/schemas/…` references resolve.
    this.ajv.addSchema({ ...doc, $id: DOC_ID });
  }

  /** The schema at this place of the document, compiled once. */
  schemaAt(...parts: string[]): ValidateFunction {
    const ref = `${DOC_ID}#/${pointer(...parts)}`;
    let fn = this.compiled.get(ref);
    if (!fn) this.compiled.set(ref, (fn = this.ajv.compile({ $ref: ref })));
    return fn;
  }

  /** Every schema the document holds, as pointers: each must compile. */
  *schemaPlaces(): Generator<string[]> {
    for (const name of Object.keys(this.doc.components.schemas)) yield ['components', 'schemas', name];
    for (const [p, item] of Object.entries(this.doc.paths))
      for (const [method, op] of Object.entries(item)) {
        for (const [status, r] of Object.entries(op.responses))
          for (const type of Object.keys(r.content ?? {})) yield ['paths', p, method, 'responses', status, 'content', type, 'schema'];
        for (const type of Object.keys(op.requestBody?.content ?? {})) yield ['paths', p, method, 'requestBody', 'content', type, 'schema'];
        for (const i of op.parameters?.keys() ?? []) yield ['paths', p, method, 'parameters', String(i), 'schema'];
      }
  }

  operation(method: string, route: string): DocOperation {
    const op = this.doc.paths[route]?.[method.toLowerCase()];
    expect(op, `${method} ${route} is not in the OpenAPI document`).toBeDefined();
    return op;
  }

  /** A JSON body the client sent: it must be what the document says the operation takes. */
  expectRequest(method: string, route: string, body: unknown): void {
    expect(this.operation(method, route).requestBody, `${method} ${route} takes a body the document does not describe`).toBeDefined();
    const validate = this.schemaAt('paths', route, method.toLowerCase(), 'requestBody', 'content', 'application/json', 'schema');
    expect(validate(body), `${method} ${route} request body: ${this.ajv.errorsText(validate.errors)}`).toBe(true);
  }

  /** The answer's status, content type, required headers and body, against the document. */
  async expectResponse(method: string, route: string, res: Response): Promise<unknown> {
    const text = await res.text();
    const where = `${method} ${route} ${res.status}`;
    const documented = this.operation(method, route).responses[String(res.status)];
    expect(documented, `${where}: the document does not list status ${res.status} for ${method} ${route} (${text.slice(0, 200)})`).toBeDefined();
    const type = (res.headers.get('content-type') ?? '').split(';')[0].trim();
    expect(Object.keys(documented.content ?? {}), `${where}: content type ${type} is not documented`).toContain(type);
    const body: unknown = type === 'application/json' ? JSON.parse(text) : text;
    const validate = this.schemaAt('paths', route, method.toLowerCase(), 'responses', String(res.status), 'content', type, 'schema');
    expect(validate(body), `${where}: ${this.ajv.errorsText(validate.errors)}\n${text.slice(0, 400)}`).toBe(true);
    for (const [name, header] of Object.entries(documented.headers ?? {}))
      if (header.required) expect(res.headers.has(name), `${where}: no ${name} header`).toBe(true);
    this.checked.add(where);
    return body;
  }
}
