import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { api, ApiError } from '../api/http';
import type { FileMeta, Room } from '../api/types';
import { FILE_FILTERS, countByFilter, filterFiles, type FileFilter } from '../filesFilter';
import { formatBytes, formatTime, useLang, useT } from '../i18n';
import { AuthImage, download } from './AuthImage';
import { Lightbox } from './Lightbox';

export function FilesPanel({ room, me, canWrite, isOwner }: { room: Room; me: string; canWrite: boolean; isOwner: boolean }) {
  const t = useT();
  const lang = useLang((s) => s.lang);
  const qc = useQueryClient();
  const [open, setOpen] = useState<FileMeta | null>(null);
  const [filter, setFilter] = useState<FileFilter>('all');
  const files = useQuery({
    queryKey: ['files', room.id],
    queryFn: () => api<{ files: FileMeta[] }>('GET', `/api/rooms/${room.id}/files`),
  });
  const del = useMutation({
    mutationFn: (id: string) => api('DELETE', `/api/rooms/${room.id}/files/${id}`),
    onSuccess: () => void qc.invalidateQueries({ queryKey: ['files', room.id] }),
  });
  const all = files.data?.files ?? [];
  const counts = countByFilter(all);
  const shown = filterFiles(all, filter);
  return (
    <section className="panel" aria-label={t('room.files')} data-testid="files-panel">
      <h2>{t('room.files')} <span className="muted">({files.data?.files.length ?? 0})</span></h2>
      {del.error && <div className="notice error" role="alert">{(del.error as ApiError).message}</div>}
      {all.length > 0 && (
        <div className="files-filter" role="group" aria-label={t('files.filter')} data-testid="files-filter">
          {FILE_FILTERS.map((k) => (
            <button key={k} type="button" className="btn small ghost" aria-pressed={filter === k} onClick={() => setFilter(k)} data-testid={`files-filter-${k}`}>
              {t(`files.filter.${k}`)} <span className="count">{counts[k]}</span>
            </button>
          ))}
        </div>
      )}
      {files.data?.files.length === 0 && <p className="muted">{t('files.empty')}</p>}
      {all.length > 0 && shown.length === 0 && <p className="muted">{t('files.filterEmpty')}</p>}
      <ul className="file-list" data-testid="file-list">
        {shown.map((f) => (
          <li key={f.id} data-testid="file-item" data-kind={f.kind}>
            {f.kind === 'image' && f.thumbnail_url ? (
              <button className="thumb small" onClick={() => setOpen(f)} aria-label={f.name}><AuthImage src={f.thumbnail_url} alt={f.name} /></button>
            ) : (
              <span className="file-icon" aria-hidden>{f.kind === 'document' ? '📄' : '📝'}</span>
            )}
            <div className="file-meta">
              <strong className="file-name">{f.name}</strong>
              <small className="muted">{formatBytes(f.size)} · {f.uploader} · {formatTime(f.uploaded_at, lang)}</small>
            </div>
            <button className="btn small ghost" onClick={() => void download(f.content_url, f.name)}>{t('msg.download')}</button>
            {room.status !== 'archived' && ((canWrite && f.uploader === me) || isOwner) && (
              <button className="btn small ghost" aria-label={t('files.delete')} onClick={() => confirm(t('files.delete') + '?') && del.mutate(f.id)}>🗑</button>
            )}
          </li>
        ))}
      </ul>
      <Lightbox file={open} onClose={() => setOpen(null)} />
    </section>
  );
}
