// The lightbox: the photo large with the matched region's box, score, path, date,
// camera, "more like this", arrows and Esc.

import type { PhotoDetail, SearchHit } from '../bindings/api';
import type { Backend } from '../backend';
import { h, clear } from '../dom';
import { formatBytes, formatDateMs, formatScore, formatTakenAt, t } from '../i18n';
import { boxPercent } from './layout';

export class Lightbox {
  readonly element: HTMLDivElement;
  private index = -1;
  private hits: SearchHit[] = [];
  private returnFocus: HTMLElement | null = null;

  constructor(
    private readonly backend: Backend,
    private readonly onMoreLikeThis: (hit: SearchHit) => void,
    private readonly onError: (error: unknown) => void,
  ) {
    this.element = h('div', { class: 'lightbox', role: 'dialog', 'aria-modal': 'true', hidden: true, tabindex: -1 });
    this.element.addEventListener('keydown', (event) => this.onKey(event));
    this.element.addEventListener('click', (event) => {
      if (event.target === this.element) this.close();
    });
  }

  get isOpen(): boolean {
    return !this.element.hidden;
  }

  open(hits: SearchHit[], index: number): void {
    this.returnFocus = document.activeElement as HTMLElement | null;
    this.hits = hits;
    this.element.hidden = false;
    this.show(index);
    this.element.focus();
  }

  close(): void {
    this.element.hidden = true;
    clear(this.element);
    this.returnFocus?.focus();
  }

  private onKey(event: KeyboardEvent): void {
    if (event.key === 'Escape') this.close();
    else if (event.key === 'ArrowLeft') this.show(this.index - 1);
    else if (event.key === 'ArrowRight') this.show(this.index + 1);
    else return;
    event.preventDefault();
    event.stopPropagation();
  }

  private show(index: number): void {
    if (index < 0 || index >= this.hits.length) return;
    this.index = index;
    const hit = this.hits[index];
    clear(this.element);
    const image = h('img', { class: 'lightbox-image', src: this.backend.imageUrl(hit.photo_id, 'large'), alt: hit.name });
    const stage = h('div', { class: 'lightbox-stage' }, image);
    if (hit.region && hit.width && hit.height) {
      const box = boxPercent(hit.region, hit.width, hit.height);
      const outline = h('div', { class: 'region-box', 'data-testid': 'lightbox-region', title: t('lightbox.region') });
      Object.assign(outline.style, { left: `${box.left}%`, top: `${box.top}%`, width: `${box.width}%`, height: `${box.height}%` });
      stage.appendChild(outline);
    }
    const info = h('dl', { class: 'lightbox-info' });
    const row = (label: string, value: string, testId?: string) => {
      info.append(h('dt', {}, label), h('dd', { 'data-testid': testId ?? null }, value));
    };
    row(t('lightbox.score'), `${formatScore(hit.score)}${hit.weak ? ` · ${t('search.weak')}` : ''}`, 'lightbox-score');
    row(t('lightbox.path'), hit.path, 'lightbox-path');
    const panel = h(
      'aside',
      { class: 'lightbox-panel' },
      h('h2', {}, hit.name),
      info,
      h('button', { type: 'button', class: 'primary', onclick: () => { this.close(); this.onMoreLikeThis(hit); } }, t('lightbox.more_like_this')),
    );
    const revealPhoto = this.backend.revealPhoto?.bind(this.backend);
    if (revealPhoto) {
      panel.append(h('button', { type: 'button', class: 'secondary', onclick: () => revealPhoto(hit.photo_id).catch(this.onError) }, t('lightbox.show_in_folder')));
    }
    const nav = (label: string, text: string, target: number) =>
      h('button', { type: 'button', class: 'lightbox-nav', 'aria-label': label, disabled: target < 0 || target >= this.hits.length, onclick: () => this.show(target) }, text);
    this.element.append(
      h('button', { type: 'button', class: 'lightbox-close', 'aria-label': t('lightbox.close'), onclick: () => this.close() }, '×'),
      nav(t('lightbox.previous'), '‹', index - 1),
      stage,
      nav(t('lightbox.next'), '›', index + 1),
      panel,
    );
    this.backend.photo(hit.photo_id).then((detail) => {
      if (this.index === index && this.isOpen) this.addDetail(info, detail);
    }, this.onError);
  }

  private addDetail(info: HTMLElement, detail: PhotoDetail): void {
    const add = (label: string, value: string) => info.append(h('dt', {}, label), h('dd', {}, value));
    add(t('lightbox.date'), detail.taken_at ? formatTakenAt(detail.taken_at) : formatDateMs(detail.modified_ms));
    const camera = [detail.camera_make, detail.camera_model, detail.lens_model].filter(Boolean).join(' · ');
    add(t('lightbox.camera'), camera || t('lightbox.unknown'));
    add(t('lightbox.size'), formatBytes(detail.size_bytes));
    if (detail.width && detail.height) add(t('lightbox.dimensions'), `${detail.width} × ${detail.height}`);
  }
}
