import { useEffect, useState } from 'react';
import { fetchBlob } from '../api/http';

// File content needs the bearer header, which <img src> cannot send: fetch the bytes
// and show them through an object URL, cached for the page's life.
const cache = new Map<string, Promise<string>>();

export function blobUrl(path: string): Promise<string> {
  let p = cache.get(path);
  if (!p) {
    p = fetchBlob(path).then((b) => URL.createObjectURL(b));
    p.catch(() => cache.delete(path));
    cache.set(path, p);
  }
  return p;
}

export function AuthImage({ src, alt, className, ...rest }: { src: string; alt: string; className?: string } & React.HTMLAttributes<HTMLImageElement>) {
  const [url, setUrl] = useState<string | null>(null);
  const [failed, setFailed] = useState(false);
  useEffect(() => {
    let live = true;
    blobUrl(src).then((u) => live && setUrl(u), () => live && setFailed(true));
    return () => { live = false; };
  }, [src]);
  if (failed) return <span className={`img-placeholder ${className ?? ''}`} role="img" aria-label={alt}>⚠</span>;
  if (!url) return <span className={`img-placeholder loading ${className ?? ''}`} role="img" aria-label={alt} />;
  return <img src={url} alt={alt} className={className} {...rest} />;
}

export async function download(path: string, name: string) {
  const url = await blobUrl(path);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.appendChild(a);
  a.click();
  a.remove();
}
