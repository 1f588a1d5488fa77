// Client-side checks mirroring the server's defaults (ANDON_MAX_*_BYTES), so a user
// hears about a wrong file at once instead of after uploading it.

export type FileKind = 'image' | 'document' | 'log';

export const LIMITS: Record<FileKind, number> = {
  image: 10 * 1024 * 1024,
  document: 20 * 1024 * 1024,
  log: 5 * 1024 * 1024,
};

const IMAGE_TYPES = ['image/jpeg', 'image/png', 'image/gif', 'image/webp'];

export function kindOf(file: { name: string; type: string }): FileKind | null {
  const type = file.type.toLowerCase();
  const ext = file.name.toLowerCase().split('.').pop() ?? '';
  if (IMAGE_TYPES.includes(type) || ['jpg', 'jpeg', 'png', 'gif', 'webp'].includes(ext)) return 'image';
  if (type === 'application/pdf' || ext === 'pdf') return 'document';
  if (type === 'text/plain' || type === 'text/csv' || ['txt', 'csv', 'log'].includes(ext)) return 'log';
  return null;
}

export type Check = { ok: true; kind: FileKind } | { ok: false; reason: 'type' } | { ok: false; reason: 'size'; kind: FileKind; max: number };

export function checkFile(file: { name: string; type: string; size: number }): Check {
  const kind = kindOf(file);
  if (!kind) return { ok: false, reason: 'type' };
  if (file.size > LIMITS[kind]) return { ok: false, reason: 'size', kind, max: LIMITS[kind] };
  return { ok: true, kind };
}
