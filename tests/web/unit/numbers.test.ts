// web/src/lib/numbers.ts: the send form's checks as you type, which must agree with
// the server's normalize_phone (libs/core/src/phone.cpp) under its default dial plan.
import { checkNumber, parseNumbers } from '../../../web/src/lib/numbers';

describe('checkNumber', () => {
  it('accepts numbers as people write them and gives the canonical form', () => {
    expect(checkNumber('+39 (02) 978-65.403')).toEqual({ raw: '+39 (02) 978-65.403', canonical: '+390297865403', problem: null });
    expect(checkNumber(' 403 ').canonical).toBe('403');
    expect(checkNumber('0044 20 7946 0000').canonical).toBe('+442079460000');
    expect(checkNumber('[02]/97865403').canonical).toBe('0297865403');
  });
  it('names the letter or character that makes a number wrong', () => {
    expect(checkNumber('1-800-FAX').problem).toEqual({ kind: 'letter', char: 'F' });
    expect(checkNumber('02#123').problem).toEqual({ kind: 'character', char: '#' });
    expect(checkNumber('02 è 1').problem).toEqual({ kind: 'letter', char: 'è' });
  });
  it('refuses a + that is not first, an empty number and more than 20 digits', () => {
    expect(checkNumber('39+02').problem).toEqual({ kind: 'plus' });
    expect(checkNumber('++39').problem).toEqual({ kind: 'plus' });
    expect(checkNumber(' - ').problem).toEqual({ kind: 'empty' });
    expect(checkNumber('00').problem).toEqual({ kind: 'prefix_only' });
    expect(checkNumber('1'.repeat(20)).problem).toBeNull();
    expect(checkNumber('1'.repeat(21)).problem).toEqual({ kind: 'too_long', digits: 21 });
  });
});

describe('parseNumbers', () => {
  it('splits on commas, semicolons and new lines but not on spaces', () => {
    const got = parseNumbers('02 9786 5403, 403;\n+39 06 1234\n');
    expect(got.map((n) => n.canonical)).toEqual(['0297865403', '403', '+39061234']);
  });
  it('drops empty entries and keeps one of the same number written twice', () => {
    const got = parseNumbers('403,, 4-0-3 ,404,');
    expect(got.map((n) => n.canonical)).toEqual(['403', '404']);
  });
  it('keeps bad entries with their problem, in order', () => {
    const got = parseNumbers('403, abc, 404');
    expect(got.map((n) => n.problem?.kind ?? 'ok')).toEqual(['ok', 'letter', 'ok']);
    expect(got[1].raw).toBe('abc');
  });
});
