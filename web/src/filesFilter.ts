// The files panel's filter: images, documents (PDF) and everything else (logs,
// CSV exports), each with its count.

export type FileFilter = 'all' | 'images' | 'documents' | 'other';
export const FILE_FILTERS: readonly FileFilter[] = ['all', 'images', 'documents', 'other'];

export function categoryOf(file: { kind: string }): Exclude<FileFilter, 'all'> {
  if (file.kind === 'image') return 'images';
  if (file.kind === 'document') return 'documents';
  return 'other';
}

export function filterFiles<T extends { kind: string }>(files: readonly T[], filter: FileFilter): T[] {
  return filter === 'all' ? [...files] : files.filter((f) => categoryOf(f) === filter);
}

export function countByFilter(files: readonly { kind: string }[]): Record<FileFilter, number> {
  const counts: Record<FileFilter, number> = { all: files.length, images: 0, documents: 0, other: 0 };
  for (const f of files) counts[categoryOf(f)] += 1;
  return counts;
}
