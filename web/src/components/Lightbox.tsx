import { useEffect, useRef } from 'react';
import type { FileMeta } from '../api/types';
import { useT } from '../i18n';
import { AuthImage, download } from './AuthImage';
import { Dialog } from './Dialog';

export function Lightbox({ file, onClose }: { file: FileMeta | null; onClose: () => void }) {
  const t = useT();
  const close = useRef<HTMLButtonElement>(null);
  // The close button takes the focus once the dialog is shown (React's autoFocus
  // fires before showModal, and the dialog would otherwise focus Download); closing
  // hands it back to what opened the lightbox (the <dialog> restores it).
  useEffect(() => {
    if (file) close.current?.focus();
  }, [file]);
  return (
    <Dialog open={!!file} onClose={onClose} title={file?.name ?? ''} className="lightbox">
      {file && (
        <div className="lightbox-body" data-testid="lightbox">
          <div className="lightbox-bar">
            <span className="lightbox-name">{file.name}</span>
            <button className="btn ghost" onClick={() => void download(file.content_url, file.name)}>{t('msg.download')}</button>
            <button ref={close} className="btn ghost" onClick={onClose} aria-label={t('close')}>✕</button>
          </div>
          <AuthImage src={file.content_url} alt={file.name} className="lightbox-img" />
        </div>
      )}
    </Dialog>
  );
}
