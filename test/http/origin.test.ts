import { describe, expect, it } from 'vitest';
import { normalizeOrigin, originAllowed } from '../../lib/http/origin';
import { SESSION_ERROR_STATUS } from '../../lib/http/status';

const allowed = ['http://localhost:3000', 'https://labs.example.org'];

describe('one origin rule, three policies', () => {
  it("API calls: no Origin is a CLI or grader, the request's own origin and the configured ones pass", () => {
    const api = { allowed, self: 'http://10.0.0.5:3000', missing: 'allow' } as const;
    expect(originAllowed(undefined, api)).toBe(true);
    expect(originAllowed('http://10.0.0.5:3000', api)).toBe(true);
    expect(originAllowed('https://labs.example.org', api)).toBe(true);
    expect(originAllowed('https://evil.example', api)).toBe(false);
    expect(originAllowed('null', api)).toBe(false);
    expect(originAllowed('not a url', api)).toBe(false);
  });

  it('terminal upgrades: an Origin is required, compared normalised', () => {
    const terminals = { allowed, missing: 'refuse' } as const;
    expect(originAllowed(undefined, terminals)).toBe(false);
    expect(originAllowed('HTTPS://Labs.Example.org:443', terminals)).toBe(true);
    expect(originAllowed('http://localhost:3001', terminals)).toBe(false);
    expect(originAllowed('null', terminals)).toBe(false);
  });

  it('service-tab sockets: the sandboxed page (opaque origin) passes, foreign sites do not', () => {
    const services = { allowed, missing: 'allow', opaque: 'allow' } as const;
    expect(originAllowed('null', services)).toBe(true);
    expect(originAllowed(undefined, services)).toBe(true);
    expect(originAllowed('https://evil.example', services)).toBe(false);
  });

  it('normalises to scheme://host[:port]', () => {
    expect(normalizeOrigin('http://Host:80/x?y')).toBe('http://host');
    expect(normalizeOrigin('::')).toBeNull();
  });
});

it('a session error has one HTTP status everywhere (unavailable is 503, not 409)', () => {
  expect(SESSION_ERROR_STATUS).toEqual({ not_found: 404, forbidden: 403, conflict: 409, invalid: 400, unavailable: 503 });
});
