// The on-screen keyboard on phones. The viewport meta asks for
// `interactive-widget=resizes-content`: Chrome and Firefox on Android then shrink
// the layout to the space above the keyboard, and the composer at the bottom of the
// flex column stays visible. Safari ignores it and lays the keyboard over the page;
// there the visual viewport shrinks instead, and this keeps the app (`--app-height`
// on the root, read by `.shell`) as tall as the part that is still visible.

interface ViewportLike {
  height: number;
  offsetTop: number;
  scale: number;
  addEventListener(type: 'resize' | 'scroll', cb: () => void): void;
  removeEventListener(type: 'resize' | 'scroll', cb: () => void): void;
}
interface WindowLike {
  innerHeight: number;
  visualViewport: ViewportLike | null;
  document: { documentElement: { style: { setProperty(k: string, v: string): void; removeProperty(k: string): void } } };
  scrollTo(x: number, y: number): void;
}

/** The app's height while something covers the bottom of the page, or null when nothing does (or the user zoomed in). */
export function coveredHeight(innerHeight: number, vv: { height: number; scale: number }): number | null {
  if (vv.scale > 1.01) return null;
  return innerHeight - vv.height > 1 ? Math.round(vv.height) : null;
}

/** Follows the visual viewport; returns the function that stops following it. */
export function followVisualViewport(win: WindowLike): () => void {
  const vv = win.visualViewport;
  if (!vv) return () => {};
  const style = win.document.documentElement.style;
  const update = () => {
    const h = coveredHeight(win.innerHeight, vv);
    if (h === null) {
      style.removeProperty('--app-height');
      return;
    }
    style.setProperty('--app-height', `${h}px`);
    // Safari scrolls the page up to show the focused field: the app fits now.
    if (vv.offsetTop > 0) win.scrollTo(0, 0);
  };
  vv.addEventListener('resize', update);
  vv.addEventListener('scroll', update);
  update();
  return () => {
    vv.removeEventListener('resize', update);
    vv.removeEventListener('scroll', update);
    style.removeProperty('--app-height');
  };
}
