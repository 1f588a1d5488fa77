import { describe, expect, it } from 'vitest';
import { coveredHeight, followVisualViewport } from './viewport';

describe('the app follows the visual viewport under an on-screen keyboard', () => {
  it('is as tall as the visible part only while something covers the page', () => {
    expect(coveredHeight(844, { height: 844, scale: 1 })).toBeNull();
    expect(coveredHeight(844, { height: 508.4, scale: 1 })).toBe(508);
    // Zoomed in: the visual viewport is smaller, but nothing covers the page.
    expect(coveredHeight(844, { height: 400, scale: 2 })).toBeNull();
  });

  it('sets and clears --app-height as the keyboard opens and closes', () => {
    const listeners: Record<string, () => void> = {};
    const props = new Map<string, string>();
    const scrolls: number[] = [];
    const vv = {
      height: 844, offsetTop: 0, scale: 1,
      addEventListener: (t: string, cb: () => void) => { listeners[t] = cb; },
      removeEventListener: (t: string) => { delete listeners[t]; },
    };
    const win = {
      innerHeight: 844,
      visualViewport: vv,
      document: { documentElement: { style: { setProperty: (k: string, v: string) => void props.set(k, v), removeProperty: (k: string) => void props.delete(k) } } },
      scrollTo: (_x: number, y: number) => void scrolls.push(y),
    };
    const stop = followVisualViewport(win);
    expect(props.has('--app-height')).toBe(false);
    vv.height = 500;
    vv.offsetTop = 300;
    listeners.resize();
    expect(props.get('--app-height')).toBe('500px');
    expect(scrolls).toEqual([0]);
    vv.height = 844;
    vv.offsetTop = 0;
    listeners.resize();
    expect(props.has('--app-height')).toBe(false);
    stop();
    expect(listeners).toEqual({});
  });

  it('does nothing without the visual viewport API', () => {
    const stop = followVisualViewport({ innerHeight: 1, visualViewport: null, document: { documentElement: { style: { setProperty: () => { throw new Error('no'); }, removeProperty: () => {} } } }, scrollTo: () => {} });
    stop();
  });
});
