import { beforeEach, describe, expect, it } from 'vitest';
import { titleMatches, useRoomGone } from './roomGone';

describe('rooms deleted permanently', () => {
  beforeEach(() => useRoomGone.setState({ gone: {}, notice: null }));

  it('the first report wins: the deleting admin is not told someone else did it', () => {
    useRoomGone.getState().deleted({ roomId: 'r1', title: 'Oven 4', by: null });
    useRoomGone.getState().deleted({ roomId: 'r1', title: 'Oven 4', by: 'admin@x' });
    expect(useRoomGone.getState().gone.r1.by).toBeNull();
    expect(useRoomGone.getState().notice).toEqual({ roomId: 'r1', title: 'Oven 4', by: null });
    useRoomGone.getState().dismiss();
    expect(useRoomGone.getState().notice).toBeNull();
    expect(useRoomGone.getState().gone.r1).toBeDefined();
  });

  it('the title must be typed exactly', () => {
    expect(titleMatches('Oven 4 over temperature', 'Oven 4 over temperature')).toBe(true);
    expect(titleMatches('oven 4 over temperature', 'Oven 4 over temperature')).toBe(false);
    expect(titleMatches('Oven 4 over temperature ', 'Oven 4 over temperature')).toBe(false);
    expect(titleMatches('Oven 4', 'Oven 4 over temperature')).toBe(false);
    expect(titleMatches('', 'Oven 4')).toBe(false);
  });
});
