// The administration half of the API client (level 10): users, the default level and
// groups. Kept apart from client.ts so that it is loaded with the admin pages only.
import { query, request, type Ok, type Schemas } from './client';

export type AdminUser = Schemas['AdminUser'];
export type AdminUserFields = Schemas['AdminUserFields'];
export type Group = Schemas['Group'];
export type Level = Schemas['DefaultLevel']['level'];
export type UserPage = Ok<'/api/v1/admin/users', 'get', 200>;

export const admin = {
  users: (q: { q?: string; limit?: number; cursor?: string }) =>
    request<UserPage>('GET', '/api/v1/admin/users' + query(q)),
  createUser: (u: AdminUserFields) => request<AdminUser>('POST', '/api/v1/admin/users', u),
  updateUser: (id: number, u: AdminUserFields) => request<AdminUser>('PATCH', `/api/v1/admin/users/${id}`, u),
  defaultLevel: () => request<Schemas['DefaultLevel']>('GET', '/api/v1/admin/users/default-level'),
  setDefaultLevel: (level: Level) =>
    request<Schemas['DefaultLevel']>('PUT', '/api/v1/admin/users/default-level', { level }),
  groups: () => request<Ok<'/api/v1/admin/groups', 'get', 200>>('GET', '/api/v1/admin/groups'),
  createGroup: (g: { name: string; fax_number: string; user_ids: number[] }) =>
    request<Group>('POST', '/api/v1/admin/groups', g),
  setMembers: (id: number, user_ids: number[]) =>
    request<Group>('PUT', `/api/v1/admin/groups/${id}/members`, { user_ids }),
  deleteGroup: (id: number) => request<void>('DELETE', `/api/v1/admin/groups/${id}`),
};
