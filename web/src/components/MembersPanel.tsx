import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { useNavigate } from 'react-router';
import { api, ApiError } from '../api/http';
import type { Member, Role, Room, User } from '../api/types';
import { useT } from '../i18n';
import { useLive } from '../stores/live';
import { RoleBadge } from './Badges';

export function useMembers(roomId: string, enabled = true) {
  return useQuery({
    queryKey: ['members', roomId],
    queryFn: () => api<{ members: Member[] }>('GET', `/api/rooms/${roomId}/members`),
    enabled,
  });
}

export function MembersPanel({ room, me, role, isAdmin }: { room: Room; me: string; role: Role | null; isAdmin: boolean }) {
  const t = useT();
  const qc = useQueryClient();
  const nav = useNavigate();
  const members = useMembers(room.id);
  const online = new Set(useLive((s) => s.online[room.id]) ?? []);
  const [q, setQ] = useState('');
  const [debounced, setDebounced] = useState('');
  const [addRole, setAddRole] = useState<Role>('editor');
  const [error, setError] = useState<string | null>(null);
  useEffect(() => { const id = setTimeout(() => setDebounced(q.trim()), 250); return () => clearTimeout(id); }, [q]);
  const isOwner = role === 'owner' || isAdmin;
  const canAdd = (role === 'editor' || isOwner) && room.status !== 'archived';
  const users = useQuery({
    queryKey: ['users', debounced],
    queryFn: () => api<{ users: User[] }>('GET', `/api/users?q=${encodeURIComponent(debounced)}&limit=8`),
    enabled: canAdd && debounced.length > 0,
  });
  const refresh = () => {
    void qc.invalidateQueries({ queryKey: ['members', room.id] });
    void qc.invalidateQueries({ queryKey: ['room', room.id] });
  };
  const onError = (e: unknown) => setError(e instanceof ApiError ? e.message : String(e));
  const add = useMutation({
    mutationFn: (user_id: string) => api('POST', `/api/rooms/${room.id}/members`, { user_id, role: addRole }),
    onSuccess: () => { setQ(''); setError(null); refresh(); },
    onError,
  });
  const change = useMutation({
    mutationFn: ({ user_id, role }: { user_id: string; role: Role }) => api('PATCH', `/api/rooms/${room.id}/members/${encodeURIComponent(user_id)}`, { role }),
    onSuccess: () => { setError(null); refresh(); },
    onError,
  });
  const remove = useMutation({
    mutationFn: (user_id: string) =>
      user_id === me ? api('POST', `/api/rooms/${room.id}/leave`) : api('DELETE', `/api/rooms/${room.id}/members/${encodeURIComponent(user_id)}`),
    onSuccess: (_r, user_id) => {
      setError(null);
      if (user_id === me) {
        void qc.invalidateQueries({ queryKey: ['rooms'] });
        nav('/');
      } else refresh();
    },
    onError,
  });
  const memberIds = new Set(members.data?.members.map((m) => m.user_id));
  const list = [...(members.data?.members ?? [])].sort((a, b) => ['owner', 'editor', 'viewer'].indexOf(a.role) - ['owner', 'editor', 'viewer'].indexOf(b.role));

  return (
    <section className="panel" aria-label={t('room.members')} data-testid="members-panel">
      <h2>{t('room.members')} <span className="muted">({list.length})</span></h2>
      {error && <div className="notice error" role="alert">{error}</div>}
      {canAdd && (
        <div className="add-member">
          <input type="search" aria-label={t('members.search')} placeholder={t('members.search')} value={q} onChange={(e) => setQ(e.target.value)} />
          <label className="inline">
            <span>{t('members.addAs')}</span>
            <select value={addRole} onChange={(e) => setAddRole(e.target.value as Role)}>
              <option value="editor">{t('role.editor')}</option>
              <option value="viewer">{t('role.viewer')}</option>
            </select>
          </label>
          {users.data && debounced && (
            <ul className="user-results">
              {users.data.users.filter((u) => !memberIds.has(u.id)).map((u) => (
                <li key={u.id}>
                  <div><strong>{u.display_name}</strong><br /><small className="muted">{u.id}{u.job_title ? ` · ${u.job_title}` : ''}</small></div>
                  <button className="btn small" onClick={() => add.mutate(u.id)} disabled={add.isPending}>{t('members.add')}</button>
                </li>
              ))}
              {/^[^@\s]+@[^@\s]+$/.test(debounced) && !memberIds.has(debounced.toLowerCase()) && !users.data.users.some((u) => u.id === debounced.toLowerCase()) && (
                <li>
                  <div><strong>{debounced.toLowerCase()}</strong><br /><small className="muted">{t('members.pending')}</small></div>
                  <button className="btn small" onClick={() => add.mutate(debounced.toLowerCase())}>{t('members.add')}</button>
                </li>
              )}
            </ul>
          )}
        </div>
      )}
      <ul className="member-list">
        {list.map((m) => {
          const canChange = room.status !== 'archived' && m.role !== 'owner' && (isOwner || (role === 'editor' && m.role === 'viewer'));
          return (
            <li key={m.user_id} data-testid="member">
              <span className={`presence ${online.has(m.user_id) ? 'on' : ''}`} title={online.has(m.user_id) ? t('members.online') : ''} aria-hidden />
              <div className="member-name">
                <strong>{m.display_name ?? m.user_id}</strong> {m.user_id === me && <span className="muted">{t('members.you')}</span>}
                <br /><small className="muted">{m.user_id}{m.pending ? ` · ${t('members.pending')}` : ''}</small>
              </div>
              {canChange ? (
                <select aria-label={`${t('rooms.status')} ${m.user_id}`} value={m.role} onChange={(e) => change.mutate({ user_id: m.user_id, role: e.target.value as Role })}>
                  <option value="editor">{t('role.editor')}</option>
                  <option value="viewer" disabled={!isOwner}>{t('role.viewer')}</option>
                </select>
              ) : (
                <RoleBadge role={m.role} />
              )}
              {m.role !== 'owner' && room.status !== 'archived' && (m.user_id === me || isOwner) && (
                <button className="btn small ghost" onClick={() => remove.mutate(m.user_id)}>
                  {m.user_id === me ? t('members.leave') : t('members.remove')}
                </button>
              )}
            </li>
          );
        })}
      </ul>
    </section>
  );
}
