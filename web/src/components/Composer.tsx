import { useState } from 'react';
import { useRef } from 'react';
import type { Room } from '../api/types';
import { getClient } from '../connection';
import { useT } from '../i18n';
import { useLive } from '../stores/live';
import { useMentionAutocomplete } from './Mentions';

export function Composer({ room, onFiles }: { room: Room; onFiles: (files: File[]) => void }) {
  const t = useT();
  const [text, setText] = useState('');
  const connection = useLive((s) => s.connection);
  const fileInput = useRef<HTMLInputElement>(null);
  const textarea = useRef<HTMLTextAreaElement>(null);
  const mention = useMentionAutocomplete(room, textarea, text, setText);
  const send = () => {
    const content = text.trim();
    const c = getClient();
    if (!content || !c) return;
    c.send(room.id, content, 'text', mention.metadata(content));
    setText('');
    mention.reset();
  };
  return (
    <div className="composer-wrap">
      {connection !== 'online' && <div className="composer-note muted" role="status">{t('composer.offlineQueued')}</div>}
      {mention.menu}
      <form className="composer" onSubmit={(e) => { e.preventDefault(); send(); }}>
        <button type="button" className="icon-btn attach" aria-label={t('composer.attach')} title={t('composer.attach')} onClick={() => fileInput.current?.click()}>📎</button>
        <input ref={fileInput} type="file" hidden multiple accept="image/jpeg,image/png,image/gif,image/webp,application/pdf,text/plain,text/csv,.csv,.txt,.log"
          data-testid="file-input"
          onChange={(e) => { onFiles([...(e.target.files ?? [])]); e.target.value = ''; }} />
        <textarea
          ref={textarea}
          {...mention.inputProps}
          aria-label={t('composer.placeholder')}
          placeholder={t('composer.placeholder')}
          rows={1}
          maxLength={10000}
          value={text}
          data-testid="composer"
          onChange={(e) => { setText(e.target.value); mention.track(); if (e.target.value) getClient()?.typing(room.id); }}
          onSelect={mention.track}
          onKeyDown={(e) => {
            if (mention.onKeyDown(e)) return;
            if (e.key === 'Enter' && !e.shiftKey && !e.nativeEvent.isComposing) { e.preventDefault(); send(); }
          }}
        />
        <button type="submit" className="btn primary" disabled={!text.trim()}>{t('composer.send')}</button>
      </form>
    </div>
  );
}

export function TypingIndicator({ roomId }: { roomId: string }) {
  const t = useT();
  const typing = useLive((s) => s.typing[roomId]);
  const names = Object.values(typing ?? {}).map((x) => x.name);
  const text = names.length === 0 ? '' : names.length === 1 ? t('room.typing1', { a: names[0] })
    : names.length === 2 ? t('room.typing2', { a: names[0], b: names[1] }) : t('room.typingN', { n: names.length });
  return <div className="typing muted" aria-live="polite" data-testid="typing">{text}</div>;
}
