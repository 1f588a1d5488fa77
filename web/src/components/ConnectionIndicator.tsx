import { useEffect, useState } from 'react';
import { getClient } from '../connection';
import { useT } from '../i18n';
import { useLive } from '../stores/live';

export function ConnectionIndicator() {
  const t = useT();
  const { connection, retryInMs, protocolError, outbox } = useLive();
  const [now, setNow] = useState(Date.now());
  const [since, setSince] = useState(Date.now());
  useEffect(() => setSince(Date.now()), [connection, retryInMs]);
  useEffect(() => {
    if (connection !== 'offline') return;
    const id = setInterval(() => setNow(Date.now()), 500);
    return () => clearInterval(id);
  }, [connection]);
  const left = retryInMs ? Math.max(0, Math.ceil((since + retryInMs - now) / 1000)) : 0;
  const label =
    connection === 'online' ? t('conn.online')
      : connection === 'connecting' ? t('conn.connecting')
        : connection === 'offline' ? (retryInMs ? t('conn.offline', { s: left }) : t('conn.offlineNow'))
          : t('conn.stopped');
  return (
    <div className={`conn conn-${connection}`} role="status" aria-live="polite" data-testid="connection" data-state={connection}>
      <span className="conn-dot" aria-hidden />
      <span className="conn-label">{label}</span>
      {outbox.length > 0 && <span className="conn-outbox" title={t('msg.pending')}>✉ {outbox.length}</span>}
      {connection === 'offline' && (
        <button className="btn small ghost" onClick={() => getClient()?.reconnectNow()}>{t('conn.retry')}</button>
      )}
      {protocolError && (
        <span className="conn-error" role="alert">
          {t('conn.protocol', { msg: protocolError })}
          <button className="btn small ghost" aria-label={t('close')} onClick={() => useLive.getState().setProtocolError(null)}>×</button>
        </span>
      )}
    </div>
  );
}
