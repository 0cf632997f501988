import { describe, expect, it } from '@jest/globals';
import { InvalidPayloadError } from '../../../packages/nest-jobs/src/errors/invalid-payload.error.js';
import { serializePayload } from '../../../packages/nest-jobs/src/enqueue/payload-serializer.js';

const serialize = (payload: unknown, max = 1024) =>
  serializePayload('mail.send', payload, max);

describe('serializePayload', () => {
  it('serialises JSON values exactly, Dates through toJSON', () => {
    expect(serialize({ a: 1, b: [true, null, 'x'], c: { d: -0.5 } })).toBe(
      '{"a":1,"b":[true,null,"x"],"c":{"d":-0.5}}',
    );
    expect(serialize(new Date('2026-01-02T03:04:05.000Z'))).toBe(
      '"2026-01-02T03:04:05.000Z"',
    );
    expect(serialize('just a string')).toBe('"just a string"');
    expect(serialize(null)).toBe('null');
  });

  it('accepts the same object twice when it is not a cycle', () => {
    const shared = { x: 1 };
    expect(serialize({ a: shared, b: shared })).toBe(
      '{"a":{"x":1},"b":{"x":1}}',
    );
  });

  const bad: Array<[string, unknown, string]> = [
    ['undefined payload', undefined, 'payload is undefined'],
    ['undefined property', { a: { b: undefined } }, 'payload.a.b is undefined'],
    ['BigInt', { n: 10n }, 'payload.n is a BigInt'],
    ['function', { f: () => 1 }, 'payload.f is a function'],
    ['symbol', [Symbol('s')], 'payload[0] is a symbol'],
    ['NaN', { n: NaN }, 'payload.n is NaN'],
    ['Infinity', { n: Infinity }, 'payload.n is Infinity'],
    ['Map', { m: new Map() }, 'payload.m is a Map'],
    ['Set', { s: new Set([1]) }, 'payload.s is a Set'],
    ['invalid Date', { at: new Date('nope') }, 'payload.at is an invalid Date'],
    ['odd key', { 'a-b': undefined }, 'payload["a-b"] is undefined'],
  ];
  it.each(bad)(
    'rejects a %s with the path of the bad value',
    (_kind, payload, message) => {
      expect(() => serialize(payload)).toThrow(InvalidPayloadError);
      expect(() => serialize(payload)).toThrow(
        `Invalid payload for job "mail.send": ${message}`,
      );
    },
  );

  it('rejects a circular reference', () => {
    const node: Record<string, unknown> = { name: 'loop' };
    node.self = { parent: node };
    expect(() => serialize(node)).toThrow(
      'payload.self.parent is a circular reference',
    );
  });

  it('rejects a payload over the size limit, counting UTF-8 bytes', () => {
    expect(serialize('é'.repeat(3), 8)).toBe('"ééé"');
    expect(() => serialize('é'.repeat(4), 8)).toThrow(
      'payload is 10 bytes of JSON, over the limit of 8 (option maxPayloadBytes)',
    );
    // Three-byte characters: exactly at the limit passes, one byte over fails.
    expect(serialize('€€', 8)).toBe('"€€"');
    expect(() => serialize('€€€', 10)).toThrow(
      'payload is 11 bytes of JSON, over the limit of 10 (option maxPayloadBytes)',
    );
    // Astral characters are two UTF-16 units and four bytes.
    expect(() => serialize('😀😀', 9)).toThrow(
      'payload is 10 bytes of JSON, over the limit of 9 (option maxPayloadBytes)',
    );
  });
});
