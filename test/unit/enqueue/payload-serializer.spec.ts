import { describe, expect, it } from '@jest/globals';
import { InvalidPayloadError } from '../../../packages/nest-jobs/src/errors/invalid-payload.error.js';
import {
  MAX_PAYLOAD_DEPTH,
  serializePayload,
} from '../../../packages/nest-jobs/src/enqueue/payload-serializer.js';

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

  describe('what PostgreSQL refuses in text', () => {
    const refused: Array<[string, unknown, string]> = [
      [
        'U+0000 in a value',
        { items: [{}, {}, { name: 'a\u0000b' }] },
        'payload.items[2].name contains U+0000 at index 1, which PostgreSQL cannot store',
      ],
      [
        'U+0000 in a key',
        { ['bad\u0000key']: 1 },
        'payload["bad\\u0000key"] is a key that contains U+0000 at index 3, which PostgreSQL cannot store',
      ],
      [
        'a lone high surrogate',
        ['ok', 'x\ud800'],
        'payload[1] contains a lone surrogate U+D800 at index 1, which PostgreSQL cannot store',
      ],
      [
        'a lone low surrogate in a nested key',
        { a: { ['\udc00']: true } },
        'payload.a["\\udc00"] is a key that contains a lone surrogate U+DC00 at index 0, which PostgreSQL cannot store',
      ],
      [
        'a top-level string',
        '\u0000',
        'payload contains U+0000 at index 0, which PostgreSQL cannot store',
      ],
    ];
    it.each(refused)(
      'refuses %s, naming its path',
      (_kind, payload, message) => {
        expect(() => serialize(payload)).toThrow(InvalidPayloadError);
        expect(() => serialize(payload)).toThrow(
          `Invalid payload for job "mail.send": ${message}`,
        );
      },
    );

    it('accepts other escaped characters and the text of an escape (the slower path finds nothing)', () => {
      expect(serialize({ ['\\u0000']: 'tab\t bell\u0007 \\ud800' })).toBe(
        '{"\\\\u0000":"tab\\t bell\\u0007 \\\\ud800"}',
      );
    });

    it('accepts surrogate pairs (astral characters) in keys and values', () => {
      expect(serialize({ '😀': '𝄞 ok' })).toBe('{"😀":"𝄞 ok"}');
    });
  });

  describe('user code inside the payload', () => {
    it('calls toJSON once and refuses what it returns that JSON cannot hold', () => {
      const cases: Array<[unknown, string]> = [
        [
          { at: { toJSON: () => undefined } },
          'payload.at has a toJSON() that returned undefined, which JSON drops',
        ],
        [{ n: { toJSON: () => NaN } }, 'payload.n is NaN'],
        [{ m: { toJSON: () => new Map() } }, 'payload.m is a Map'],
        [
          { deep: { toJSON: () => ({ list: [1, { id: 2n }] }) } },
          'payload.deep.list[1].id is a BigInt',
        ],
        [
          {
            t: {
              toJSON() {
                throw new Error('toJSON broke');
              },
            },
          },
          'payload.t could not be read: toJSON broke',
        ],
      ];
      for (const [payload, message] of cases)
        expect(() => serialize(payload)).toThrow(
          `Invalid payload for job "mail.send": ${message}`,
        );
      // What toJSON returns is what is stored; the key is passed as JSON.stringify passes it.
      const keys: string[] = [];
      const money = {
        toJSON(key: string) {
          keys.push(key);
          return { cents: 5 };
        },
      };
      expect(serialize({ price: money, list: [money] })).toBe(
        '{"price":{"cents":5},"list":[{"cents":5}]}',
      );
      expect(keys).toEqual(['price', '0']);
    });

    it('reads every getter, toJSON and Proxy trap once: what was checked is what is stored', () => {
      // Each answers with something fine the first time and something JSON or PostgreSQL
      // cannot hold the second: read twice, the second answer would be stored unchecked.
      const fickle = <T>(first: T, then: unknown) => {
        let calls = 0;
        return () => (calls++ === 0 ? first : then);
      };
      const viaToJSON = { n: { toJSON: fickle(1, NaN) } };
      const viaGetter = {};
      Object.defineProperty(viaGetter, 's', {
        get: fickle('ok', 'bad\u0000'),
        enumerable: true,
      });
      let reads = 0;
      const viaProxy = new Proxy(
        { x: 1 },
        {
          get: (target, key, receiver) => {
            if (key === 'x') reads += 1;
            return Reflect.get(target, key, receiver);
          },
        },
      );
      expect(serialize(viaToJSON)).toBe('{"n":1}');
      expect(serialize(viaGetter)).toBe('{"s":"ok"}');
      expect(serialize(viaProxy)).toBe('{"x":1}');
      expect(reads).toBe(1);
    });

    it('writes boxed primitives as their value, as JSON does, and refuses a boxed NaN', () => {
      expect(
        serialize({
          n: new Number(2),
          s: new String('x'),
          b: new Boolean(false),
        }),
      ).toBe('{"n":2,"s":"x","b":false}');
      expect(() => serialize({ n: new Number(NaN) })).toThrow(
        'payload.n is NaN, which JSON cannot represent',
      );
      expect(() => serialize({ s: new String('a\u0000') })).toThrow(
        'payload.s contains U+0000 at index 1',
      );
      expect(() => serialize({ b: Object(1n) })).toThrow(
        'payload.b is a BigInt',
      );
      expect(() => serialize({ y: Object(Symbol('s')) })).toThrow(
        'payload.y is a boxed symbol',
      );
      const hostile = new Number(1);
      hostile.valueOf = () => {
        throw new Error('valueOf broke');
      };
      expect(() => serialize({ h: hostile })).toThrow(
        'payload.h could not be read: valueOf broke',
      );
    });

    it('refuses a getter or a Proxy that throws, naming the path, never a raw error', () => {
      const payload = {
        a: [
          0,
          {
            get broken(): number {
              throw new Error('getter broke');
            },
          },
        ],
      };
      expect(() => serialize(payload)).toThrow(
        'Invalid payload for job "mail.send": payload.a[1].broken could not be read: getter broke',
      );
      const { proxy, revoke } = Proxy.revocable({}, {});
      revoke();
      expect(() => serialize({ p: proxy })).toThrow(
        /^Invalid payload for job "mail.send": payload\.p could not be read: (TypeError: )?Cannot perform '\w+' on a proxy that has been revoked$/,
      );
    });

    it('refuses nesting deeper than MAX_PAYLOAD_DEPTH with a typed error, not a RangeError', () => {
      const nest = (levels: number) => {
        let value: unknown = 1;
        for (let i = 0; i < levels; i += 1) value = [value];
        return value;
      };
      expect(() => serialize(nest(MAX_PAYLOAD_DEPTH), 1e6)).not.toThrow();
      expect(() => serialize(nest(MAX_PAYLOAD_DEPTH + 1), 1e6)).toThrow(
        `is nested deeper than ${MAX_PAYLOAD_DEPTH} levels (MAX_PAYLOAD_DEPTH)`,
      );
      expect(() => serialize(nest(100_000), 1e7)).toThrow(InvalidPayloadError);
    });
  });

  describe('payload semantics (the rule of the manual, section 4)', () => {
    class Point {
      constructor(
        readonly x: number,
        readonly y: number,
      ) {}
      get length(): number {
        return Math.hypot(this.x, this.y);
      }
      scale(): void {}
    }

    it('stores a Date as its ISO string, a class instance as its own enumerable fields, -0 as 0', () => {
      expect(
        serialize({
          at: new Date('2026-01-02T03:04:05.000Z'),
          point: new Point(3, 4),
          zero: -0,
        }),
      ).toBe(
        '{"at":"2026-01-02T03:04:05.000Z","point":{"x":3,"y":4},"zero":0}',
      );
    });

    it("drops an array's properties that are not indexes, as JSON does", () => {
      const list = Object.assign([1, 2], { extra: 'dropped' });
      expect(serialize(list)).toBe('[1,2]');
    });

    it('refuses binary data (Buffer, typed arrays, ArrayBuffer) until binary payloads exist', () => {
      const cases: Array<[unknown, string]> = [
        [{ file: Buffer.from('hi') }, 'payload.file is a Buffer'],
        [{ bytes: new Uint8Array(2) }, 'payload.bytes is a Uint8Array'],
        [[new Float64Array(1)], 'payload[0] is a Float64Array'],
        [new ArrayBuffer(4), 'payload is an ArrayBuffer'],
      ];
      for (const [payload, message] of cases)
        expect(() => serialize(payload)).toThrow(
          `Invalid payload for job "mail.send": ${message}, which JSON cannot represent (convert it to a string, e.g. base64)`,
        );
    });
  });

  it('names the item of a bulk call', () => {
    expect(() =>
      serializePayload('mail.send', { n: NaN }, 1024, 'payloads', 3),
    ).toThrow('Invalid payload for job "mail.send": payloads[3].n is NaN');
    expect(() =>
      serializePayload('mail.send', 'x'.repeat(20), 10, 'jobs', 2),
    ).toThrow(
      'Invalid payload for job "mail.send": jobs[2].payload is 22 bytes of JSON, over the limit of 10',
    );
  });
});
