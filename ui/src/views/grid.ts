// A virtualised thumbnail grid: only the rows in view (and a few around them) exist in
// the DOM, so scrolling stays smooth with 100,000 results.

import type { SearchHit } from '../bindings/api';
import type { Backend } from '../backend';
import { h, clear } from '../dom';
import { formatScore, t } from '../i18n';
import { boxPercent, gridLayout, moveSelection, visibleRange, type GridLayout } from './layout';

const GAP_PX = 8;

export class ThumbnailGrid {
  readonly element: HTMLDivElement;
  private readonly spacer: HTMLDivElement;
  private hits: SearchHit[] = [];
  private layout: GridLayout = { columns: 1, rowHeight: 1, totalHeight: 0 };
  private selected = -1;
  private frame = 0;

  constructor(
    private readonly backend: Backend,
    private tileSize: number,
    private readonly onOpen: (index: number) => void,
  ) {
    this.spacer = h('div', { class: 'grid-spacer' });
    this.element = h('div', { class: 'grid', role: 'grid', tabindex: 0, 'aria-label': t('search.results', { count: 0, ms: 0 }) }, this.spacer);
    this.element.addEventListener('scroll', () => this.schedule());
    this.element.addEventListener('keydown', (event) => this.onKey(event));
    new ResizeObserver(() => this.schedule()).observe(this.element);
  }

  setHits(hits: SearchHit[]): void {
    this.hits = hits;
    this.selected = hits.length > 0 ? 0 : -1;
    this.element.scrollTop = 0;
    this.render();
  }

  setTileSize(size: number): void {
    this.tileSize = size;
    this.render();
  }

  get selectedIndex(): number {
    return this.selected;
  }

  focus(): void {
    this.element.focus();
  }

  private schedule(): void {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.render();
    });
  }

  private onKey(event: KeyboardEvent): void {
    if (event.key === 'Enter' && this.selected >= 0) {
      event.preventDefault();
      this.onOpen(this.selected);
      return;
    }
    const next = moveSelection(event.key, this.selected, this.layout.columns, this.hits.length);
    if (next === null) return;
    event.preventDefault();
    this.select(next);
  }

  select(index: number): void {
    this.selected = index;
    const row = Math.floor(index / this.layout.columns);
    const top = row * this.layout.rowHeight;
    if (top < this.element.scrollTop) this.element.scrollTop = top;
    else if (top + this.layout.rowHeight > this.element.scrollTop + this.element.clientHeight) {
      this.element.scrollTop = top + this.layout.rowHeight - this.element.clientHeight;
    }
    this.render();
  }

  private render(): void {
    const width = this.element.clientWidth || 800;
    this.layout = gridLayout(width, this.tileSize, GAP_PX, this.hits.length);
    this.spacer.style.height = `${this.layout.totalHeight}px`;
    const { start, end } = visibleRange(this.layout, this.element.scrollTop, this.element.clientHeight || 600, this.hits.length);
    clear(this.spacer);
    for (let index = start; index < end; index += 1) {
      this.spacer.appendChild(this.tile(index));
    }
  }

  private tile(index: number): HTMLElement {
    const hit = this.hits[index];
    const column = index % this.layout.columns;
    const row = Math.floor(index / this.layout.columns);
    const size = this.tileSize;
    const image = h('img', { src: this.backend.imageUrl(hit.photo_id, 'thumb'), alt: hit.name, loading: 'lazy', draggable: 'false' });
    image.style.maxWidth = `${size}px`;
    image.style.maxHeight = `${size - 4}px`;
    const frame = h('span', { class: 'tile-frame' }, image);
    if (hit.region && hit.width && hit.height) {
      const box = boxPercent(hit.region, hit.width, hit.height);
      const outline = h('span', { class: 'region-outline', 'data-testid': 'tile-region' });
      Object.assign(outline.style, { left: `${box.left}%`, top: `${box.top}%`, width: `${box.width}%`, height: `${box.height}%` });
      frame.appendChild(outline);
    }
    let tileClass = hit.weak ? 'tile weak' : 'tile';
    if (index === this.selected) tileClass = 'tile selected';
    const score = h('span', { class: hit.weak ? 'score weak' : 'score', title: hit.weak ? t('search.weak') : t('search.score') }, formatScore(hit.score));
    const tile = h(
      'div',
      {
        class: tileClass,
        role: 'gridcell',
        'aria-selected': index === this.selected ? 'true' : 'false',
        'data-index': index,
        'data-photo-id': hit.photo_id,
        title: hit.path,
        onclick: () => {
          this.selected = index;
          this.onOpen(index);
        },
      },
      frame,
      score,
    );
    Object.assign(tile.style, {
      width: `${size}px`,
      height: `${size}px`,
      transform: `translate(${column * (size + GAP_PX)}px, ${row * this.layout.rowHeight}px)`,
    });
    return tile;
  }
}
