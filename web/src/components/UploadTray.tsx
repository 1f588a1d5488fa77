import { useQueryClient } from '@tanstack/react-query';
import { useEffect, useMemo, useState, useSyncExternalStore } from 'react';
import { upload } from '../api/http';
import { formatBytes, useT, type Key } from '../i18n';
import { CAPTION_MAX, UploadQueue, type UploadError, type UploadItem } from '../uploadQueue';

const SERVER_REASONS = ['payload_too_large', 'unsupported_media_type', 'unavailable', 'forbidden', 'room_archived', 'network', 'validation_failed'];

/** One upload queue per open room: files picked or dropped are staged here. */
export function useUploadQueue(roomId: string): UploadQueue {
  const qc = useQueryClient();
  const queue = useMemo(
    () => new UploadQueue<File>((file, caption, onProgress) => {
      const form = new FormData();
      if (caption.trim()) form.append('caption', caption.trim());
      form.append('file', file, file.name);
      return upload(`/api/rooms/${roomId}/files`, form, onProgress);
    }, { concurrency: 2, onUploaded: () => void qc.invalidateQueries({ queryKey: ['files', roomId] }) }),
    [roomId, qc],
  );
  // Leaving the room cancels what is still going.
  useEffect(() => () => { for (const x of queue.snapshot()) queue.cancel(x.id); }, [queue]);
  return queue;
}

export function UploadTray({ queue }: { queue: UploadQueue }) {
  const t = useT();
  const items = useSyncExternalStore((cb) => queue.subscribe(cb), () => queue.snapshot());
  const staged = items.filter((x) => x.state === 'staged').length;
  if (!items.length) return null;

  const reason = (x: UploadItem, e: UploadError): string => {
    const name = x.file.name;
    if (e.source === 'check') {
      return e.check.reason === 'type' ? t('upload.badType', { name })
        : t('upload.tooBig', { name, kind: t(`kind.${e.check.kind}`), max: formatBytes(e.check.max) });
    }
    if (SERVER_REASONS.includes(e.code)) return t(`upload.err.${e.code}` as Key, { name, msg: e.message });
    return t('upload.failed', { name, msg: e.message });
  };

  return (
    <section className="upload-tray" aria-label={t('upload.tray')} data-testid="upload-tray">
      <ul className="uploads">
        {items.map((x) => (
          <li key={x.id} className={`upload-item ${x.state}`} data-testid="upload" data-state={x.state}>
            <div className="upload-line">
              <span className="upload-name">{x.file.name} <small className="muted">{formatBytes(x.file.size)}</small></span>
              {x.state === 'failed' && (
                <button type="button" className="btn small ghost" onClick={() => queue.retry(x.id)}>{t('upload.retry')}</button>
              )}
              <button
                type="button"
                className="btn small ghost"
                aria-label={x.state === 'staged' ? t('upload.remove', { name: x.file.name })
                  : x.state === 'waiting' || x.state === 'uploading' ? t('upload.cancel', { name: x.file.name })
                    : t('upload.dismiss')}
                data-testid="upload-cancel"
                onClick={() => queue.cancel(x.id)}
              >✕</button>
            </div>
            {x.state === 'staged' && (
              <Caption value={x.caption} label={t('upload.captionFor', { name: x.file.name })}
                placeholder={t('upload.caption')}
                onChange={(v) => queue.setCaption(x.id, v)} onEnter={() => queue.send()} />
            )}
            {x.state === 'waiting' && <small className="muted">{t('upload.waiting')}</small>}
            {x.state === 'uploading' && (
              <label className="upload-progress">
                <span className="sr-only">{t('upload.progress', { name: x.file.name, p: Math.round(x.progress * 100) })}</span>
                <progress max={1} value={x.progress} data-testid="upload-progress" />
                <span aria-hidden>{Math.round(x.progress * 100)}%</span>
              </label>
            )}
            {x.error && <span className="upload-error" role="alert">{reason(x, x.error)}</span>}
          </li>
        ))}
      </ul>
      {staged > 0 && (
        <button type="button" className="btn primary upload-send" data-testid="upload-send" onClick={() => queue.send()}>
          {t('upload.send', { n: staged })}
        </button>
      )}
    </section>
  );
}

function Caption({ value, label, placeholder, onChange, onEnter }: {
  value: string; label: string; placeholder: string; onChange: (v: string) => void; onEnter: () => void;
}) {
  // Local state so typing is not slowed by the queue's snapshots.
  const [text, setText] = useState(value);
  return (
    <input
      className="upload-caption"
      aria-label={label}
      placeholder={placeholder}
      maxLength={CAPTION_MAX}
      value={text}
      data-testid="upload-caption"
      onChange={(e) => { setText(e.target.value); onChange(e.target.value); }}
      onKeyDown={(e) => { if (e.key === 'Enter' && !e.nativeEvent.isComposing) { e.preventDefault(); onEnter(); } }}
    />
  );
}
