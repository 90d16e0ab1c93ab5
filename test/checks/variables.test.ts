import { describe, expect, it } from 'vitest';
import { DEFAULT_ALPHABET, generateVariables } from '../../lib/checks/variables';
import { variableSchema } from '../../lib/labs/schema';

const vars = [
  { name: 'SENDER', pick: ['leia', 'luke', 'han'], secret: true },
  { name: 'TOKEN', random: { length: 12 } },
  { name: 'PIN', random: { length: 6, alphabet: '0123456789' }, secret: false },
  { name: 'GROUP', value: '225.0.0.50', secret: false },
].map((v) => variableSchema.parse(v));

describe('generateVariables', () => {
  it('picks, draws random strings from the alphabet, and copies values', () => {
    const v = generateVariables(vars);
    expect(Object.keys(v).sort()).toEqual(['GROUP', 'PIN', 'SENDER', 'TOKEN']);
    expect(['leia', 'luke', 'han']).toContain(v.SENDER);
    expect(v.TOKEN).toMatch(/^[a-z0-9]{12}$/);
    expect(v.PIN).toMatch(/^[0-9]{6}$/);
    expect(v.GROUP).toBe('225.0.0.50');
  });

  it('is random: every pick shows up and two sessions get different tokens', () => {
    const seen = new Set<string>();
    const tokens = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const v = generateVariables(vars);
      seen.add(v.SENDER);
      tokens.add(v.TOKEN);
    }
    expect([...seen].sort()).toEqual(['han', 'leia', 'luke']);
    expect(tokens.size).toBe(200);
  });

  it('uses the injected rng (deterministic tests), and keeps non-ASCII alphabets whole', () => {
    const zero = () => 0;
    expect(generateVariables(vars, zero)).toEqual({ SENDER: 'leia', TOKEN: 'a'.repeat(12), PIN: '000000', GROUP: '225.0.0.50' });
    const last = (n: number) => n - 1;
    const greek = variableSchema.parse({ name: 'G', random: { length: 4, alphabet: 'αβ' } });
    expect(generateVariables([greek], last)).toEqual({ G: 'ββββ' });
    expect(generateVariables(vars, last).TOKEN).toBe(DEFAULT_ALPHABET.at(-1)!.repeat(12));
  });
});
