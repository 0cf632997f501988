import { describe, expect, it } from '@jest/globals';
import {
  toPostgresText,
  unsafeCharacter,
} from '../../../packages/nest-jobs/src/utils/postgres-text.js';

describe('postgres-text', () => {
  it('accepts text PostgreSQL accepts, surrogate pairs included', () => {
    expect(unsafeCharacter('plain ascii')).toBeNull();
    expect(unsafeCharacter('emoji \u{1F600} and é')).toBeNull();
    expect(toPostgresText('emoji \u{1F600}')).toBe('emoji \u{1F600}');
  });

  it('names the first character PostgreSQL refuses', () => {
    expect(unsafeCharacter('a\u0000b')).toBe('U+0000 at index 1');
    expect(unsafeCharacter('x\ud800y')).toBe(
      'a lone surrogate U+D800 at index 1',
    );
    expect(unsafeCharacter('\udc00')).toBe(
      'a lone surrogate U+DC00 at index 0',
    );
    expect(unsafeCharacter('ok\ud83d')).toBe(
      'a lone surrogate U+D83D at index 2',
    );
  });

  it('replaces what PostgreSQL refuses with U+FFFD and keeps pairs', () => {
    expect(toPostgresText('a\u0000b\ud800c\udc00\u{1F600}')).toBe(
      'a\ufffdb\ufffdc\ufffd\u{1F600}',
    );
    expect(unsafeCharacter(toPostgresText('\ud800\ud800\udc00'))).toBeNull();
  });
});
