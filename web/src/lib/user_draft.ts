// A user being edited in the admin form, and the API fields it becomes: text fields as
// typed, the level as '' (inherit the default) or a number, an empty fax number as
// null (no number), an empty password as "unchanged". For an edit only the fields that
// differ from the user are sent, so a field the administrator did not touch keeps what
// another administrator may have set meanwhile.
import type { AdminUser, AdminUserFields } from '../api/admin';

export type Draft = Required<Omit<AdminUserFields, 'password' | 'level' | 'fax_number'>> & {
  password: string;
  level: '' | '0' | '2' | '10';
  fax_number: string;
};

const blank: Draft = {
  username: '', name: '', email: '', password: '', level: '', fax_number: '', phone: '', enable_send: true,
  enable_receive: true, fax_to_email: false, fax_to_email_address: '', fax_to_email_attach: true, cover_page: '',
  language: 'en', company: '', disabled: false,
};

export function draftOf(u: AdminUser | null): Draft {
  if (!u) return blank;
  return {
    ...blank, ...u, password: '', fax_number: u.fax_number ?? '',
    level: u.level_inherited ? '' : (String(u.level) as Draft['level']),
  };
}

// The API's fields of a draft; for an edit only those that differ from the user.
export function fieldsOf(d: Draft, before: Draft | null): AdminUserFields {
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(d) as (keyof Draft)[]) {
    if (before && d[k] === before[k]) continue;
    if (k === 'password') {
      if (d.password !== '') out.password = d.password;
    } else if (k === 'level') out.level = d.level === '' ? null : Number(d.level);
    else if (k === 'fax_number') out.fax_number = d.fax_number.trim() === '' ? null : d.fax_number.trim();
    else out[k] = d[k];
  }
  if (!before && out.fax_number === null) delete out.fax_number;
  return out as AdminUserFields;
}

