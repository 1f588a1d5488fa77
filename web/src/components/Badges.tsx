import type { Role, RoomStatus, Severity, IncidentType } from '../api/types';
import { useT } from '../i18n';

export function StatusBadge({ status }: { status: RoomStatus }) {
  const t = useT();
  return <span className={`badge status-${status}`} data-testid="status-badge">{t(`status.${status}`)}</span>;
}

export function SeverityBadge({ severity }: { severity: Severity }) {
  const t = useT();
  return <span className={`badge sev-${severity}`} data-testid="severity-badge">{t(`sev.${severity}`)}</span>;
}

export function TypeLabel({ type }: { type: IncidentType }) {
  const t = useT();
  return <span className="type-label">{t(`type.${type}`)}</span>;
}

export function RoleBadge({ role }: { role: Role }) {
  const t = useT();
  return <span className={`badge role-${role}`}>{t(`role.${role}`)}</span>;
}
