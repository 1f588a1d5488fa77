import type { FileMeta } from '../api/types';
import { useT } from '../i18n';
import { AuthImage, download } from './AuthImage';
import { Dialog } from './Dialog';

export function Lightbox({ file, onClose }: { file: FileMeta | null; onClose: () => void }) {
  const t = useT();
  return (
    <Dialog open={!!file} onClose={onClose} title={file?.name ?? ''} className="lightbox">
      {file && (
        <div className="lightbox-body" data-testid="lightbox">
          <div className="lightbox-bar">
            <span className="lightbox-name">{file.name}</span>
            <button className="btn ghost" onClick={() => void download(file.content_url, file.name)}>{t('msg.download')}</button>
            <button className="btn ghost" onClick={onClose} aria-label={t('close')} autoFocus>✕</button>
          </div>
          <AuthImage src={file.content_url} alt={file.name} className="lightbox-img" />
        </div>
      )}
    </Dialog>
  );
}
