import { describe, expect, it } from 'vitest';
import { boxPercent, gridLayout, moveSelection, visibleRange } from './layout';

describe('grid layout', () => {
  it('fits columns to the width', () => {
    expect(gridLayout(1000, 180, 8, 10).columns).toBe(5);
    expect(gridLayout(100, 180, 8, 10).columns).toBe(1);
  });

  it('renders only rows near the viewport at 100k results', () => {
    const count = 100_000;
    const layout = gridLayout(1000, 180, 8, count);
    expect(layout.totalHeight).toBe(20_000 * 188);
    const range = visibleRange(layout, 1_000_000, 800, count);
    expect(range.end - range.start).toBeLessThanOrEqual(5 * 9);
    expect(range.start).toBe((Math.floor(1_000_000 / 188) - 2) * 5);
  });

  it('clamps the range at the end', () => {
    const layout = gridLayout(1000, 180, 8, 7);
    expect(visibleRange(layout, 0, 800, 7)).toEqual({ start: 0, end: 7 });
  });
});

describe('keyboard selection', () => {
  it('moves by one and by a row', () => {
    expect(moveSelection('ArrowRight', 0, 5, 20)).toBe(1);
    expect(moveSelection('ArrowDown', 1, 5, 20)).toBe(6);
    expect(moveSelection('ArrowUp', 2, 5, 20)).toBe(0);
    expect(moveSelection('ArrowDown', 18, 5, 20)).toBe(19);
    expect(moveSelection('Enter', 3, 5, 20)).toBeNull();
    expect(moveSelection('ArrowLeft', 0, 5, 0)).toBeNull();
  });
});

describe('region boxes', () => {
  it('converts pixels to percentages of the photo', () => {
    expect(boxPercent({ x0: 50, y0: 25, x1: 150, y1: 75 }, 200, 100)).toEqual({ left: 25, top: 25, width: 50, height: 50 });
  });

  it('clamps boxes that spill over the edge', () => {
    expect(boxPercent({ x0: -10, y0: 0, x1: 300, y1: 100 }, 200, 100).left).toBe(0);
    expect(boxPercent({ x0: -10, y0: 0, x1: 300, y1: 100 }, 200, 100).width).toBe(100);
  });
});
