// The administration pages (level 10), one chunk loaded on the first visit to an admin
// page, so the send page's first load carries none of them.
import { GroupsPage } from './Groups';
import { UsersPage } from './Users';
import { NotFound } from '../Messages';

export const kAdminPaths = ['/admin/users', '/admin/groups'] as const;

export function AdminPage(props: { path: string }) {
  switch (props.path) {
    case '/admin':
    case '/admin/users':
      return <UsersPage />;
    case '/admin/groups':
      return <GroupsPage />;
    default:
      return <NotFound />;
  }
}
