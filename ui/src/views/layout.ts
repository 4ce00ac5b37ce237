// Geometry of the virtualised thumbnail grid and of region boxes, kept free of the DOM
// so that unit tests cover it.

export interface GridLayout {
  columns: number;
  rowHeight: number;
  totalHeight: number;
}

export function gridLayout(viewportWidth: number, tileSize: number, gap: number, count: number): GridLayout {
  const columns = Math.max(1, Math.floor((viewportWidth + gap) / (tileSize + gap)));
  const rowHeight = tileSize + gap;
  const rows = Math.ceil(count / columns);
  return { columns, rowHeight, totalHeight: rows * rowHeight };
}

/** Returns the tile indexes to render: every row that intersects the viewport, plus `overscanRows` on each side. */
export function visibleRange(layout: GridLayout, scrollTop: number, viewportHeight: number, count: number, overscanRows = 2): { start: number; end: number } {
  const firstRow = Math.max(0, Math.floor(scrollTop / layout.rowHeight) - overscanRows);
  const lastRow = Math.ceil((scrollTop + viewportHeight) / layout.rowHeight) + overscanRows;
  return { start: Math.min(count, firstRow * layout.columns), end: Math.min(count, lastRow * layout.columns) };
}

/** Returns the index a key press moves the selection to, or `null` for other keys. */
export function moveSelection(key: string, index: number, columns: number, count: number): number | null {
  if (count === 0) return null;
  const moves: Record<string, number> = { ArrowLeft: -1, ArrowRight: 1, ArrowUp: -columns, ArrowDown: columns };
  if (!(key in moves)) return null;
  const next = index < 0 ? 0 : index + moves[key];
  return Math.min(count - 1, Math.max(0, next));
}

/** Converts a region box to percentages of the photo, for an absolutely positioned outline. */
export function boxPercent(box: { x0: number; y0: number; x1: number; y1: number }, width: number, height: number) {
  const clamp = (value: number) => Math.min(100, Math.max(0, value));
  return {
    left: clamp((box.x0 / width) * 100),
    top: clamp((box.y0 / height) * 100),
    width: clamp(((box.x1 - box.x0) / width) * 100),
    height: clamp(((box.y1 - box.y0) / height) * 100),
  };
}
