// The administration pages (level 10), one chunk loaded on the first visit to an admin
// page, so the send page's first load carries none of them.
import { GroupsPage } from './Groups';
import { UsersPage } from './Users';
import { SettingsPage } from './Settings';
import { RoutesPage } from './Routes';
import { DashboardPage } from './Dashboard';
import { AuditPage } from './Audit';
import { TokensPage } from './Tokens';
import { CoverPagesPage } from './CoverPages';
import { NotFound } from '../Messages';

export function AdminPage(props: { path: string }) {
  switch (props.path) {
    case '/admin':
    case '/admin/users':
      return <UsersPage />;
    case '/admin/groups':
      return <GroupsPage />;
    case '/admin/dashboard':
      return <DashboardPage />;
    case '/admin/cover-pages':
      return <CoverPagesPage />;
    case '/admin/tokens':
      return <TokensPage />;
    case '/admin/audit':
      return <AuditPage />;
    case '/admin/routes':
      return <RoutesPage />;
    case '/admin/settings':
      return <SettingsPage group="mailbox" />;
    default:
      if (props.path.startsWith('/admin/settings/')) return <SettingsPage group={props.path.split('/')[3]} />;
      return <NotFound />;
  }
}
