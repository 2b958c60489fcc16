// The UI's strings in the seed's two languages. The user's language is their
// preference (`language` of /me/preferences, which also picks their localized cover
// pages and mails), else the browser's; anything that is not Italian is English.
// Strings take {name} placeholders; a key missing in Italian falls back to English,
// and the unit tests check that both tables have the same keys.
import { en } from './strings_en';
import { it } from './strings_it';

export type Language = 'en' | 'it';
export type StringKey = keyof typeof en;
export const tables: Record<Language, Record<StringKey, string>> = { en, it };

export function pickLanguage(preference: string | null | undefined, browser: readonly string[] = []): Language {
  for (const tag of [preference ?? '', ...browser]) {
    const primary = tag.toLowerCase().split(/[-_]/)[0];
    if (primary === 'it') return 'it';
    if (primary === 'en') return 'en';
  }
  return 'en';
}

export type Translate = (key: StringKey, params?: Record<string, string | number>) => string;

export function translator(lang: Language): Translate {
  const table = tables[lang];
  return (key, params) => {
    let s = table[key] ?? en[key];
    if (params) for (const [k, v] of Object.entries(params)) s = s.split(`{${k}}`).join(String(v));
    return s;
  };
}

// Dates as the user's language writes them, in the browser's time zone.
export function formatTime(iso: string | null | undefined, lang: Language): string {
  if (!iso) return '';
  return new Date(iso).toLocaleString(lang === 'it' ? 'it-IT' : 'en-GB', { dateStyle: 'short', timeStyle: 'short' });
}
