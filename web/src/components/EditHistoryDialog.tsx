import { useQuery } from '@tanstack/react-query';
import { api, ApiError } from '../api/http';
import type { EditHistory } from '../api/types';
import { formatTime, useLang, useT } from '../i18n';
import { Dialog } from './Dialog';

/** The earlier versions of a message, oldest first, then its current text. */
export function EditHistoryDialog({ roomId, messageId, onClose }: { roomId: string; messageId: string | null; onClose: () => void }) {
  const t = useT();
  const lang = useLang((s) => s.lang);
  const history = useQuery({
    queryKey: ['edits', roomId, messageId],
    queryFn: () => api<EditHistory>('GET', `/api/rooms/${roomId}/messages/${messageId}/edits`),
    enabled: !!messageId,
    staleTime: 0,
  });
  const h = history.data;
  const currentSince = h ? (h.versions.length ? h.versions[h.versions.length - 1].replaced_at : h.created_at) : null;
  return (
    <Dialog open={!!messageId} onClose={onClose} title={t('history.title')} className="edit-history">
      <h2>{t('history.title')}</h2>
      {history.isPending ? (
        <p className="muted" role="status">{t('history.loading')}</p>
      ) : history.isError ? (
        <p className="notice error" role="alert">{t('history.error', { msg: (history.error as ApiError).message })}</p>
      ) : h!.deleted ? (
        <p className="muted">{t('history.deleted')}</p>
      ) : (
        <ol className="edit-versions" data-testid="edit-versions">
          {h!.versions.map((v) => (
            <li key={v.version} data-testid="edit-version">
              <div className="muted edit-version-head">
                <strong>{t('history.version', { n: v.version })}</strong> · {t('history.written', { t: formatTime(v.written_at, lang, 'full') })}
                {' · '}{t('history.replaced', { t: formatTime(v.replaced_at, lang, 'full') })}
              </div>
              <div className="edit-version-text">{v.content}</div>
            </li>
          ))}
          <li className="current" data-testid="edit-current">
            <div className="muted edit-version-head">
              <strong>{t('history.current')}</strong> · {t('history.written', { t: formatTime(currentSince, lang, 'full') })}
            </div>
            <div className="edit-version-text">{h!.content}</div>
          </li>
          {h!.versions.length === 0 && <li className="muted">{t('history.none')}</li>}
        </ol>
      )}
      <div className="actions">
        <button className="btn" onClick={onClose}>{t('close')}</button>
      </div>
    </Dialog>
  );
}
