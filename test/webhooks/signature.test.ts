/**
 * The signature as a receiver checks it: docs/graders.md's Node and Python snippets, run as they
 * are printed, against what the dispatcher sends (lib/webhooks/signature.ts).
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { deliveryHeaders, sign } from '../../lib/webhooks/signature';
import { docsSnippet, docsVerifier } from './support';

const secret = 'whsec_test-secret';
const body = JSON.stringify({ id: '7', type: 'challenge.passed', lab: 'multicast-basics' });
const now = Math.floor(Date.now() / 1000);

/** The headers of a delivery made at `at`, lower-cased as Node's http gives them to a receiver. */
const sent = (at: number, b = body) =>
  Object.fromEntries(Object.entries(deliveryHeaders({ id: 3, event: 'challenge.passed', body: b }, secret, at)).map(([k, v]) => [k.toLowerCase(), v]));

/** Each case: the headers the receiver got, the body it got, whether it must accept. */
const cases = () => {
  const good = sent(now);
  return [
    { what: 'a delivery as sent', headers: good, body, ok: true },
    { what: 'a changed body', headers: good, body: body.replace('passed', 'failed'), ok: false },
    { what: 'another secret', headers: { ...good, 'x-labforge-signature': sign('whsec_other', now, body) }, body, ok: false },
    { what: 'a replay with a fresh timestamp', headers: { ...good, 'x-labforge-timestamp': String(now + 60) }, body, ok: false },
    { what: 'a correctly signed but old request (6 minutes)', headers: sent(now - 360), body, ok: false },
    { what: 'a request 4 minutes old', headers: sent(now - 240), body, ok: true },
    { what: 'no signature', headers: { ...good, 'x-labforge-signature': '' }, body, ok: false },
    { what: 'a timestamp that is not a number', headers: { ...good, 'x-labforge-timestamp': 'soon' }, body, ok: false },
  ];
};

describe('webhook signatures', () => {
  it('signs "<timestamp>.<body>" with HMAC-SHA256 and sends every documented header', () => {
    const h = deliveryHeaders({ id: 3, event: 'challenge.passed', body }, secret, 1_800_000_000);
    expect(h).toEqual({
      'Content-Type': 'application/json',
      'User-Agent': 'Labforge-Webhooks',
      'X-Labforge-Event': 'challenge.passed',
      'X-Labforge-Delivery': '3',
      'X-Labforge-Timestamp': '1800000000',
      'X-Labforge-Signature': expect.stringMatching(/^sha256=[0-9a-f]{64}$/),
    });
    expect(h['X-Labforge-Signature']).toBe(sign(secret, 1_800_000_000, body));
    expect(sign(secret, 1_800_000_001, body)).not.toBe(h['X-Labforge-Signature']);
  });

  it("the docs' Node snippet accepts what is sent and refuses tampering, replays and stale requests", async () => {
    const verify = await docsVerifier();
    for (const c of cases()) expect([c.what, verify(secret, c.headers, c.body)]).toEqual([c.what, c.ok]);
  });

  const python = spawnSync('python3', ['--version']).status === 0;
  it.skipIf(!python)("the docs' Python snippet agrees", () => {
    const cs = cases();
    // The receiver's headers as a framework gives them (names as sent); the body as bytes.
    const input = cs.map((c) => ({
      headers: { 'X-Labforge-Timestamp': c.headers['x-labforge-timestamp'], 'X-Labforge-Signature': c.headers['x-labforge-signature'] },
      body: c.body,
    }));
    const program = `${docsSnippet('python')}
import json, sys
for c in json.load(sys.stdin):
    print(verify_labforge(${JSON.stringify(secret)}, c["headers"], c["body"].encode()))
`;
    const run = spawnSync('python3', ['-c', program], { input: JSON.stringify(input), encoding: 'utf8' });
    expect(run.stderr).toBe('');
    expect(run.stdout.trim().split('\n')).toEqual(cs.map((c) => (c.ok ? 'True' : 'False')));
  });
});
