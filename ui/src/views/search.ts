// The search screen: the query field (results as you type), query by image (drop or
// choose a photo), filters, and the thumbnail grid with the lightbox.

import type { LibraryStatus, SearchFilters, SearchHit, SearchResults } from '../bindings/api';
import { type Backend, makeQuery } from '../backend';
import { h, clear, debounce } from '../dom';
import { formatNumber, t } from '../i18n';
import { ThumbnailGrid } from './grid';
import { Lightbox } from './lightbox';

const FILE_TYPES = ['jpg', 'png', 'webp', 'gif', 'heic', 'avif', 'tiff', 'bmp'];
const TYPING_DELAY_MS = 250;
/** Results requested per query. The grid is virtualised, so this is not a rendering limit. */
const RESULT_LIMIT = 1000;

/** The example photo of a "more like this" or dropped-photo search. */
type Example = { kind: 'photo'; hit: SearchHit } | { kind: 'file'; file: Blob; name: string; url: string };

export class SearchView {
  readonly element: HTMLElement;
  readonly input: HTMLInputElement;
  private readonly grid: ThumbnailGrid;
  readonly lightbox: Lightbox;
  private readonly summary: HTMLElement;
  private readonly exampleChip: HTMLElement;
  private readonly filterBar: HTMLElement;
  private filters: SearchFilters = makeQuery({}).filters;
  private folders: string[] = [];
  private example: Example | null = null;
  private hits: SearchHit[] = [];
  private generation = 0;

  constructor(
    private readonly backend: Backend,
    tileSize: number,
    private readonly onError: (error: unknown) => void,
  ) {
    this.input = h('input', {
      type: 'search',
      class: 'search-input',
      'aria-label': t('search.label'),
      placeholder: t('search.placeholder'),
      autocomplete: 'off',
      spellcheck: 'false',
    });
    const runSoon = debounce(() => this.run(), TYPING_DELAY_MS);
    this.input.addEventListener('input', runSoon);
    this.input.addEventListener('keydown', (event) => {
      if (event.key === 'Enter') this.run();
      if (event.key === 'ArrowDown') {
        event.preventDefault();
        this.grid.focus();
      }
    });

    const chooser = h('input', { type: 'file', accept: 'image/*', hidden: true, 'data-testid': 'image-input' });
    chooser.addEventListener('change', () => {
      const file = chooser.files?.[0];
      if (file) this.setExampleFile(file, file.name);
      chooser.value = '';
    });
    const imageButton = h('button', { type: 'button', class: 'secondary', onclick: () => chooser.click() }, t('search.by_image'));
    this.exampleChip = h('div', { class: 'example-chip', hidden: true });
    this.filterBar = h('div', { class: 'filters', role: 'group', 'aria-label': t('filters.title') });
    this.summary = h('p', { class: 'summary', role: 'status', 'data-testid': 'summary' }, t('search.empty'));

    this.lightbox = new Lightbox(backend, (hit) => this.setExamplePhoto(hit), onError);
    this.grid = new ThumbnailGrid(backend, tileSize, (index) => this.lightbox.open(this.hits, index));

    this.element = h(
      'section',
      { class: 'view search-view', 'data-view': 'search' },
      h('div', { class: 'search-bar' }, this.input, imageButton, chooser),
      this.exampleChip,
      this.filterBar,
      this.summary,
      this.grid.element,
      this.lightbox.element,
    );
    this.element.addEventListener('dragover', (event) => {
      event.preventDefault();
      this.element.classList.add('dropping');
    });
    this.element.addEventListener('dragleave', () => this.element.classList.remove('dropping'));
    this.element.addEventListener('drop', (event) => {
      event.preventDefault();
      this.element.classList.remove('dropping');
      const file = event.dataTransfer?.files?.[0];
      if (file && file.type.startsWith('image/')) this.setExampleFile(file, file.name);
    });
    this.renderFilters();
  }

  setFolders(status: LibraryStatus): void {
    const folders = status.folders.map((f) => f.path);
    if (folders.join('\n') === this.folders.join('\n')) return;
    this.folders = folders;
    this.renderFilters();
  }

  setTileSize(size: number): void {
    this.grid.setTileSize(size);
  }

  /** Re-reads every label after a language switch and reruns the query so that notices match. */
  relabel(): void {
    this.input.placeholder = t('search.placeholder');
    this.input.setAttribute('aria-label', t('search.label'));
    const button = this.element.querySelector('.search-bar button');
    if (button) button.textContent = t('search.by_image');
    this.renderFilters();
    this.renderExample();
    this.renderSummary(null);
  }

  private lastResults: SearchResults | null = null;

  private renderSummary(results: SearchResults | null): void {
    const current = results ?? this.lastResults;
    if (!current) {
      this.summary.textContent = t('search.empty');
      return;
    }
    this.lastResults = current;
    const text = current.hits.length === 0
      ? t('search.no_results')
      : t('search.results', { count: formatNumber(current.hits.length), ms: formatNumber(current.elapsed_ms) });
    this.summary.textContent = [text, ...current.notices.map((n) => n.split('\n')[document.documentElement.lang === 'en' ? 0 : 1] ?? n)].join(' · ');
  }

  private renderFilters(): void {
    clear(this.filterBar);
    const update = (change: Partial<SearchFilters>) => {
      this.filters = { ...this.filters, ...change };
      this.run();
    };
    const folder = h('select', { 'aria-label': t('filters.folder'), 'data-testid': 'filter-folder' }, h('option', { value: '' }, t('filters.any_folder')));
    for (const path of this.folders) folder.append(h('option', { value: path, selected: this.filters.folder === path }, path));
    folder.addEventListener('change', () => update({ folder: folder.value || null }));

    const type = h('select', { 'aria-label': t('filters.type') }, h('option', { value: '' }, t('filters.any_type')));
    for (const ext of FILE_TYPES) type.append(h('option', { value: ext, selected: this.filters.types[0] === ext }, ext.toUpperCase()));
    type.addEventListener('change', () => update({ types: type.value ? [type.value] : [] }));

    const date = (label: string, value: string | null, apply: (v: string | null) => Partial<SearchFilters>) => {
      const input = h('input', { type: 'date', 'aria-label': label, value: value ?? '' });
      input.addEventListener('change', () => update(apply(input.value || null)));
      return h('label', {}, label, input);
    };
    const camera = h('input', { type: 'text', placeholder: t('filters.camera'), 'aria-label': t('filters.camera'), value: this.filters.camera ?? '' });
    camera.addEventListener('input', debounce(() => update({ camera: camera.value.trim() || null }), TYPING_DELAY_MS));
    const reset = h('button', { type: 'button', class: 'link', onclick: () => { this.filters = makeQuery({}).filters; this.renderFilters(); this.run(); } }, t('filters.reset'));

    this.filterBar.append(
      h('label', {}, t('filters.folder'), folder),
      date(t('filters.after'), this.filters.after, (v) => ({ after: v })),
      date(t('filters.before'), this.filters.before, (v) => ({ before: v })),
      h('label', {}, t('filters.type'), type),
      h('label', {}, t('filters.camera'), camera),
      reset,
    );
  }

  private setExampleFile(file: Blob, name: string): void {
    this.clearExample(false);
    this.example = { kind: 'file', file, name, url: URL.createObjectURL(file) };
    this.renderExample();
    this.run();
  }

  setExamplePhoto(hit: SearchHit): void {
    this.clearExample(false);
    this.example = { kind: 'photo', hit };
    this.input.value = '';
    this.renderExample();
    this.run();
  }

  private clearExample(rerun: boolean): void {
    if (this.example?.kind === 'file') URL.revokeObjectURL(this.example.url);
    this.example = null;
    this.renderExample();
    if (rerun) this.run();
  }

  private renderExample(): void {
    clear(this.exampleChip);
    const example = this.example;
    this.exampleChip.hidden = example === null;
    if (!example) return;
    const src = example.kind === 'file' ? example.url : this.backend.imageUrl(example.hit.photo_id, 'thumb');
    const name = example.kind === 'file' ? example.name : example.hit.name;
    this.exampleChip.append(
      h('img', { src, alt: '' }),
      h('span', {}, `${t('search.example')}: ${name}`),
      h('button', { type: 'button', class: 'link', 'aria-label': t('search.clear_example'), onclick: () => this.clearExample(true) }, '×'),
    );
  }

  /** Runs the current query. Responses to superseded queries are dropped. */
  async run(): Promise<void> {
    const text = this.input.value.trim();
    const generation = ++this.generation;
    if (!text && !this.example) {
      this.hits = [];
      this.lastResults = null;
      this.grid.setHits([]);
      this.renderSummary(null);
      return;
    }
    const query = makeQuery({
      text: text || null,
      like_photo: this.example?.kind === 'photo' ? this.example.hit.photo_id : null,
      filters: this.filters,
      limit: RESULT_LIMIT,
    });
    try {
      const results = this.example?.kind === 'file'
        ? await this.backend.searchByImage(this.example.file, query)
        : await this.backend.search(query);
      if (generation !== this.generation) return;
      this.hits = results.hits;
      this.grid.setHits(results.hits);
      this.renderSummary(results);
      // Marks which query the grid shows, for tests and assistive tools.
      this.element.dataset.resultsFor = this.queryLabel(text);
    } catch (error) {
      if (generation === this.generation) this.onError(error);
    }
  }

  private queryLabel(text: string): string {
    const example = this.example;
    let byExample = '';
    if (example?.kind === 'file') byExample = `image:${example.name}`;
    if (example?.kind === 'photo') byExample = `photo:${example.hit.photo_id}`;
    return [byExample, text].filter(Boolean).join(' ');
  }

  focusGrid(): void {
    this.grid.focus();
  }
}
