// Administration: the group fax numbers (a fax to a group's number reaches every
// member's inbox). Each group with its number and members; members are changed by
// their usernames (comma separated), looked up in the user list; add and delete.
import { useEffect, useState } from 'preact/hooks';
import { ApiError } from '../../api/client';
import { admin, type AdminUser, type Group } from '../../api/admin';
import { useApp } from '../../app_context';
import { useTitle } from '../../components/useTitle';

const message = (err: unknown) => (err instanceof ApiError ? err.detail : String(err instanceof Error ? err.message : err));

// Usernames typed by the administrator → user ids; an unknown one is an error by name.
function idsOf(text: string, users: AdminUser[]): number[] {
  const names = text.split(/[,\s]+/).map((s) => s.trim()).filter(Boolean);
  return names.map((n) => {
    const u = users.find((x) => x.username === n);
    if (!u) throw new Error(`“${n}”?`);
    return u.id;
  });
}

function GroupRow(props: { group: Group; users: AdminUser[]; onChange: (g: Group | null) => void }) {
  const { t } = useApp();
  const g = props.group;
  const [members, setMembers] = useState(g.members.map((m) => m.username).join(', '));
  const [error, setError] = useState('');
  const [status, setStatus] = useState('');
  const id = `group-${g.id}-members`;
  const save = async (e: Event) => {
    e.preventDefault();
    setError('');
    setStatus('');
    try {
      props.onChange(await admin.setMembers(g.id, idsOf(members, props.users)));
      setStatus(t('groups.saved'));
    } catch (err) {
      setError(t('groups.bad_members', { detail: message(err) }));
    }
  };
  const remove = async () => {
    try {
      await admin.deleteGroup(g.id);
      props.onChange(null);
    } catch (err) {
      setError(message(err));
    }
  };
  return (
    <li class="card group" data-name={g.name}>
      <h2 class="small">{g.name} <span class="hint">· {g.fax_number}</span></h2>
      <form onSubmit={save} class="inline">
        <label for={id}>{t('groups.members')}</label>
        <input id={id} value={members} onInput={(e) => setMembers(e.currentTarget.value)} />
        <div class="buttons">
          <button type="submit">{t('groups.save_members')}</button>
          <button type="button" class="secondary" onClick={remove} aria-label={t('groups.delete_named', { name: g.name })}>
            {t('groups.delete')}
          </button>
        </div>
      </form>
      <p role="alert" class="error">{error}</p>
      <p role="status" class="done">{status}</p>
    </li>
  );
}

export function GroupsPage() {
  const { t } = useApp();
  useTitle(t('groups.title'));
  const [groups, setGroups] = useState<Group[] | null>(null);
  const [users, setUsers] = useState<AdminUser[]>([]);
  const [draft, setDraft] = useState({ name: '', fax_number: '', members: '' });
  const [error, setError] = useState('');
  const load = () => admin.groups().then((g) => setGroups(g.groups), (e) => setError(message(e)));
  useEffect(() => {
    void load();
    // Members are picked by username; the first 200 users are plenty to look them up
    // on a fax server's scale, and an unknown name is said, not guessed.
    admin.users({ limit: 200 }).then((p) => setUsers(p.users), (e) => setError(message(e)));
  }, []);
  const add = async (e: Event) => {
    e.preventDefault();
    setError('');
    try {
      await admin.createGroup({ name: draft.name, fax_number: draft.fax_number, user_ids: idsOf(draft.members, users) });
      setDraft({ name: '', fax_number: '', members: '' });
      await load();
    } catch (err) {
      setError(message(err));
    }
  };
  return (
    <section>
      <h1>{t('groups.title')}</h1>
      <p class="hint">{t('groups.help')}</p>
      {groups === null ? <p>{t('common.loading')}</p> : groups.length === 0 ? <p>{t('groups.none')}</p> : (
        <ul class="groups">
          {groups.map((g) => (
            <GroupRow key={g.id} group={g} users={users}
              onChange={(n) => setGroups(n ? groups.map((x) => (x.id === n.id ? n : x)) : groups.filter((x) => x.id !== g.id))} />
          ))}
        </ul>
      )}
      <form class="card" onSubmit={add} aria-labelledby="group-add-title">
        <h2 id="group-add-title" class="small">{t('groups.add')}</h2>
        <label for="group-name">{t('groups.name')}</label>
        <input id="group-name" required maxLength={64} value={draft.name} onInput={(e) => setDraft({ ...draft, name: e.currentTarget.value })} />
        <label for="group-number">{t('users.fax_number')}</label>
        <input id="group-number" type="tel" required maxLength={40} value={draft.fax_number}
          onInput={(e) => setDraft({ ...draft, fax_number: e.currentTarget.value })} />
        <label for="group-members">{t('groups.members')}</label>
        <input id="group-members" value={draft.members} aria-describedby="group-members-help"
          onInput={(e) => setDraft({ ...draft, members: e.currentTarget.value })} />
        <p id="group-members-help" class="hint">{t('groups.members_help')}</p>
        <p role="alert" class="error">{error}</p>
        <button type="submit">{t('groups.add')}</button>
      </form>
    </section>
  );
}
