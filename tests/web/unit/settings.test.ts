// web/src/lib/settings.ts: settings grouped as the seed's pages, and checked by the catalog.
import { changesOf, groupOf, parseSetting, type Setting } from '../../../web/src/lib/settings';

const setting = (key: string, type: Setting['type'], value: Setting['value'], constraints: Setting['constraints'] = {}, secret = false): Setting => ({
  key, type, value, default: value, is_default: true, constraints, secret, description: '', updated_at: null, updated_by: null,
});

describe('groupOf', () => {
  it('puts each key on its seed page by prefix', () => {
    expect(groupOf('mail.host')).toBe('mailbox');
    expect(groupOf('outgoing.enabled')).toBe('mailbox');
    expect(groupOf('smtp.port')).toBe('incoming');
    expect(groupOf('incoming.default_user')).toBe('incoming');
    expect(groupOf('sip.allow_g711_outgoing')).toBe('routing');
    expect(groupOf('routing.country_code')).toBe('routing');
    expect(groupOf('fax.max_attempts')).toBe('service');
    expect(groupOf('company.tsid')).toBe('company');
    expect(groupOf('retention.fax_days')).toBe('retention');
    expect(groupOf('users.default_permission_level')).toBe(null);
  });
});

describe('parseSetting', () => {
  const attempts = setting('fax.max_attempts', 'integer', 3, { minimum: 1, maximum: 100 });
  it('checks integers against the bounds', () => {
    expect(parseSetting(attempts, ' 5 ')).toEqual({ ok: true, value: 5 });
    expect(parseSetting(attempts, '0')).toEqual({ ok: false, error: 'at least 1' });
    expect(parseSetting(attempts, '101')).toEqual({ ok: false, error: 'at most 100' });
    expect(parseSetting(attempts, '2.5')).toEqual({ ok: false, error: 'a whole number' });
  });
  it('checks choices, lengths and addresses', () => {
    expect(parseSetting(setting('mail.protocol', 'choice', 'auto', { choices: ['auto', 'imap'] }), 'pop3').ok).toBe(false);
    expect(parseSetting(setting('company.tsid', 'string', '', { max_length: 4 }), 'ACME Corp').ok).toBe(false);
    expect(parseSetting(setting('company.admin_email', 'email', ''), 'nobody').ok).toBe(false);
    expect(parseSetting(setting('company.admin_email', 'email', ''), '')).toEqual({ ok: true, value: '' });
  });
});

describe('changesOf', () => {
  it('sends only values that differ, and a secret only when typed', () => {
    const all = [
      setting('fax.max_attempts', 'integer', 3, { minimum: 1, maximum: 100 }),
      setting('company.name', 'string', 'ACME', { max_length: 200 }),
      setting('smtp.password', 'string', null, { max_length: 1024 }, true),
      setting('smtp.auth_enabled', 'boolean', false),
    ];
    expect(changesOf(all, { 'fax.max_attempts': '3', 'company.name': 'Imagicle', 'smtp.password': '', 'smtp.auth_enabled': true }))
      .toEqual({ values: { 'company.name': 'Imagicle', 'smtp.auth_enabled': true }, errors: {} });
    expect(changesOf(all, { 'smtp.password': 's3cret', 'fax.max_attempts': '0' }))
      .toEqual({ values: { 'smtp.password': 's3cret' }, errors: { 'fax.max_attempts': 'at least 1' } });
  });
});
