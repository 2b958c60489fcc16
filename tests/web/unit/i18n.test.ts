// web/src/lib/i18n.ts: the language a user gets, and the two string tables.
import { pickLanguage, tables, translator } from '../../../web/src/lib/i18n';

describe('pickLanguage', () => {
  it('takes the preference first, then the browser, then English', () => {
    expect(pickLanguage('it', ['en-US'])).toBe('it');
    expect(pickLanguage('en', ['it-IT'])).toBe('en');
    expect(pickLanguage('', ['it-IT', 'en'])).toBe('it');
    expect(pickLanguage(null, ['de-DE', 'it'])).toBe('it');
    expect(pickLanguage('de', ['fr'])).toBe('en');
    expect(pickLanguage('it_IT')).toBe('it');
  });
});

describe('string tables', () => {
  it('have the same keys and the same placeholders in both languages', () => {
    const keys = Object.keys(tables.en).sort();
    expect(Object.keys(tables.it).sort()).toEqual(keys);
    const holes = (s: string) => (s.match(/\{[a-z_]+\}/g) ?? []).sort();
    for (const k of keys) expect(holes(tables.it[k as keyof typeof tables.it]), k).toEqual(holes(tables.en[k as keyof typeof tables.en]));
  });
  it('fill placeholders, every occurrence', () => {
    expect(translator('en')('send.number_ok', { raw: '0039 403', canonical: '+39403' })).toBe('0039 403: valid (+39403)');
    expect(translator('it')('nav.signed_in_as', { name: 'Christian Bianchi' })).toBe('Accesso come Christian Bianchi');
  });
});
