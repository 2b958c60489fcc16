// web/src/lib/user_draft.ts: what the user form sends.
import { draftOf, fieldsOf } from '../../../web/src/lib/user_draft';
import type { AdminUser } from '../../../web/src/api/admin';

const carla: AdminUser = {
  id: 7, username: 'carla', name: 'Carla', email: 'carla@example.test', has_password: true, level: 2,
  level_inherited: true, fax_number: '401', phone: '', enable_send: true, enable_receive: true, fax_to_email: true,
  fax_to_email_address: 'carla@example.test', fax_to_email_attach: true, cover_page: '', language: 'it', company: '',
  disabled: false, created_at: '2026-12-04T10:00:00Z', updated_at: '2026-12-04T10:00:00Z',
};

describe('fieldsOf', () => {
  it('sends only what changed on an edit', () => {
    const before = draftOf(carla);
    expect(fieldsOf(before, before)).toEqual({});
    expect(fieldsOf({ ...before, disabled: true, phone: '555' }, before)).toEqual({ disabled: true, phone: '555' });
  });
  it('turns the level, an empty number and an empty password into the API’s meaning', () => {
    const before = draftOf(carla);
    expect(before.level).toBe(''); // inherited
    expect(fieldsOf({ ...before, level: '10' }, before)).toEqual({ level: 10 });
    expect(fieldsOf({ ...draftOf({ ...carla, level_inherited: false }), level: '' }, draftOf({ ...carla, level_inherited: false })))
      .toEqual({ level: null });
    expect(fieldsOf({ ...before, fax_number: ' ' }, before)).toEqual({ fax_number: null });
    expect(fieldsOf({ ...before, password: '' }, before)).toEqual({});
  });
  it('sends every field of a new user but no empty number or password', () => {
    const f = fieldsOf({ ...draftOf(null), username: 'dan', fax_number: ' 402 ' }, null);
    expect(f).toMatchObject({ username: 'dan', fax_number: '402', level: null, enable_send: true, disabled: false });
    expect('password' in f).toBe(false);
    expect('fax_number' in fieldsOf({ ...draftOf(null), username: 'eve' }, null)).toBe(false);
  });
});
