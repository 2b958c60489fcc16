// The settings pages' logic, driven by the API's catalog (GET /admin/settings: each
// key's type, bounds and choices). Keys are grouped as the seed's settings pages by
// their prefix; a field's text is turned into the setting's value and checked against
// the catalog before anything is sent (the server checks again, and says why when it
// refuses: the rules between keys are its own).
import type { Schemas } from '../api/client';

export type Setting = Schemas['Setting'];
export type SettingValue = Schemas['SettingValue'];

export const kSettingGroups = ['mailbox', 'incoming', 'routing', 'service', 'company', 'retention'] as const;
export type SettingGroup = (typeof kSettingGroups)[number];

// The seed's pages: outgoing faxes (the email-to-fax mailbox), incoming faxes with the
// SMTP server and the mails sent, IP routes and negotiation options, the service's
// configuration, company info, data retention. The default permission level is on
// the users page, where it is used.
export function groupOf(key: string): SettingGroup | null {
  const prefix = key.split('.')[0];
  switch (prefix) {
    case 'mail':
    case 'outgoing':
      return 'mailbox';
    case 'incoming':
    case 'smtp':
    case 'receipts':
    case 'notifications':
      return 'incoming';
    case 'routing':
    case 'sip':
      return 'routing';
    case 'company':
      return 'company';
    case 'retention':
      return 'retention';
    case 'users':
      return null;
    default:
      return 'service';
  }
}

// What a field shows for a value: text for text inputs, the boolean for a checkbox.
export function textOf(s: Setting): string {
  return s.value === null || s.value === undefined ? '' : String(s.value);
}

export type Parsed = { ok: true; value: SettingValue } | { ok: false; error: string };

// A field's text as the setting's value, or why it is not one.
export function parseSetting(s: Setting, text: string | boolean): Parsed {
  const c = s.constraints ?? {};
  switch (s.type) {
    case 'boolean':
      return { ok: true, value: Boolean(text) };
    case 'integer': {
      const t = String(text).trim();
      if (!/^-?\d+$/.test(t)) return { ok: false, error: 'a whole number' };
      const n = Number(t);
      if (c.minimum !== undefined && n < c.minimum) return { ok: false, error: `at least ${c.minimum}` };
      if (c.maximum !== undefined && n > c.maximum) return { ok: false, error: `at most ${c.maximum}` };
      return { ok: true, value: n };
    }
    case 'choice': {
      const t = String(text);
      if (c.choices && !c.choices.includes(t)) return { ok: false, error: `one of ${c.choices.join(', ')}` };
      return { ok: true, value: t };
    }
    default: {
      const t = String(text).trim();
      if (c.max_length !== undefined && t.length > c.max_length) return { ok: false, error: `at most ${c.max_length} characters` };
      if (s.type === 'email' && t !== '' && !/^[^@\s]+@[^@\s]+$/.test(t)) return { ok: false, error: 'an email address' };
      return { ok: true, value: t };
    }
  }
}

// The changes of a form: each edited key's value (a secret only when typed), and the
// keys whose text is no value with the reason.
export function changesOf(settings: Setting[], edits: Record<string, string | boolean>) {
  const values: Record<string, SettingValue> = {};
  const errors: Record<string, string> = {};
  for (const s of settings) {
    if (!(s.key in edits)) continue;
    const e = edits[s.key];
    if (s.secret && e === '') continue; // an empty secret field keeps the stored one
    const p = parseSetting(s, e);
    if (!p.ok) errors[s.key] = p.error;
    else if (s.secret || p.value !== s.value) values[s.key] = p.value;
  }
  return { values, errors };
}
