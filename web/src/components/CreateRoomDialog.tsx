import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { useNavigate } from 'react-router';
import { api, ApiError } from '../api/http';
import { INCIDENT_TYPES, SEVERITIES, type IncidentType, type Room, type Severity, type Template } from '../api/types';
import { useT } from '../i18n';
import { Dialog } from './Dialog';

export function parseLots(s: string): string[] {
  return [...new Set(s.split(/[,\n，]/).map((x) => x.trim()).filter(Boolean))];
}

export function CreateRoomDialog({ open, onClose }: { open: boolean; onClose: () => void }) {
  const t = useT();
  const qc = useQueryClient();
  const nav = useNavigate();
  const templates = useQuery({
    queryKey: ['templates'],
    queryFn: () => api<{ templates: Template[] }>('GET', '/api/templates'),
    enabled: open,
  });
  const [templateId, setTemplateId] = useState('');
  const [title, setTitle] = useState('');
  const [type, setType] = useState<IncidentType>('equipment_failure');
  const [severity, setSeverity] = useState<Severity>('medium');
  const [location, setLocation] = useState('');
  const [line, setLine] = useState('');
  const [equipment, setEquipment] = useState('');
  const [description, setDescription] = useState('');
  const [lots, setLots] = useState('');
  const tpl = templates.data?.templates.find((x) => x.id === templateId);

  const pickTemplate = (id: string) => {
    setTemplateId(id);
    const p = templates.data?.templates.find((x) => x.id === id);
    if (p) {
      setType(p.incident_type);
      setSeverity(p.default_severity);
      if (!description && p.default_description) setDescription(p.default_description);
    }
  };

  const create = useMutation({
    mutationFn: () => {
      const body: Record<string, unknown> = { title: title.trim(), incident_type: type, severity };
      if (location.trim()) body.location = location.trim();
      if (line.trim()) body.line = line.trim();
      if (equipment.trim()) body.equipment = equipment.trim();
      if (description.trim()) body.description = description;
      const l = parseLots(lots);
      if (l.length) body.lots = l;
      if (templateId) body.template_id = templateId;
      return api<Room>('POST', '/api/rooms', body);
    },
    onSuccess: (room) => {
      void qc.invalidateQueries({ queryKey: ['rooms'] });
      qc.setQueryData(['room', room.id], room);
      onClose();
      nav(`/rooms/${room.id}`);
    },
  });

  return (
    <Dialog open={open} onClose={onClose} title={t('create.title')}>
      <form className="form" onSubmit={(e) => { e.preventDefault(); create.mutate(); }}>
        <h2>{t('create.title')}</h2>
        <label className="field">
          <span>{t('create.template')}</span>
          <select name="template" value={templateId} onChange={(e) => pickTemplate(e.target.value)}>
            <option value="">{t('create.noTemplate')}</option>
            {templates.data?.templates.map((x) => <option key={x.id} value={x.id}>{x.name}</option>)}
          </select>
          {tpl && tpl.default_members.length > 0 && <small className="muted">{t('create.templateMembers', { n: tpl.default_members.length })}</small>}
        </label>
        <label className="field">
          <span>{t('create.name')}</span>
          <input name="title" required maxLength={200} value={title} onChange={(e) => setTitle(e.target.value)} autoFocus />
        </label>
        <div className="row2">
          <label className="field">
            <span>{t('rooms.type')}</span>
            <select name="incident_type" value={type} onChange={(e) => setType(e.target.value as IncidentType)}>
              {INCIDENT_TYPES.map((x) => <option key={x} value={x}>{t(`type.${x}`)}</option>)}
            </select>
          </label>
          <label className="field">
            <span>{t('rooms.severity')}</span>
            <select name="severity" value={severity} onChange={(e) => setSeverity(e.target.value as Severity)}>
              {SEVERITIES.map((x) => <option key={x} value={x}>{t(`sev.${x}`)}</option>)}
            </select>
          </label>
        </div>
        <div className="row3">
          <label className="field"><span>{t('create.location')}</span><input name="location" maxLength={200} value={location} onChange={(e) => setLocation(e.target.value)} /></label>
          <label className="field"><span>{t('create.line')}</span><input name="line" maxLength={200} value={line} onChange={(e) => setLine(e.target.value)} /></label>
          <label className="field"><span>{t('create.equipment')}</span><input name="equipment" maxLength={200} value={equipment} onChange={(e) => setEquipment(e.target.value)} /></label>
        </div>
        <label className="field">
          <span>{t('create.description')}</span>
          <textarea name="description" rows={4} maxLength={10000} value={description} onChange={(e) => setDescription(e.target.value)} />
        </label>
        <label className="field">
          <span>{t('create.lots')}</span>
          <input name="lots" value={lots} onChange={(e) => setLots(e.target.value)} />
        </label>
        {create.error && <div className="notice error" role="alert">{(create.error as ApiError).message}</div>}
        <div className="actions">
          <button type="button" className="btn ghost" onClick={onClose}>{t('create.cancel')}</button>
          <button type="submit" className="btn primary" disabled={create.isPending || !title.trim()}>{t('create.submit')}</button>
        </div>
      </form>
    </Dialog>
  );
}
