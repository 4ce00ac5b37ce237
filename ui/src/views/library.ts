// The library screen: folders with their state, counts, indexing progress with
// pause and resume, and the files that failed with their reasons.

import type { IndexingProgress, LibraryStatus } from '../bindings/api';
import type { Backend } from '../backend';
import { h, clear } from '../dom';
import { formatDuration, formatNumber, t, type MessageKey } from '../i18n';
import { FolderField } from './folder-field';

export function phaseLabel(phase: string | null): string {
  const key = `library.phase.${phase ?? 'scan'}` as MessageKey;
  return t(key);
}

export function progressLine(progress: IndexingProgress): string {
  if (progress.paused) return t('library.paused');
  if (!progress.running) return t('library.idle');
  const parts = [phaseLabel(progress.phase)];
  if (progress.total !== null) {
    parts.push(
      t('library.progress', {
        done: formatNumber(progress.done),
        total: formatNumber(progress.total),
        rate: formatNumber(progress.files_per_second, undefined, 1),
        eta: progress.eta_seconds === null ? '—' : formatDuration(progress.eta_seconds),
      }),
    );
  }
  return parts.join(' · ');
}

export class LibraryView {
  readonly element: HTMLElement;
  private status: LibraryStatus | null = null;

  constructor(
    private readonly backend: Backend,
    private readonly onStatus: (status: LibraryStatus) => void,
    private readonly onError: (error: unknown) => void,
  ) {
    this.element = h('section', { class: 'view library-view', 'data-view': 'library' });
  }

  update(status: LibraryStatus): void {
    this.status = status;
    this.render();
  }

  /** Updates the progress panel in place, so a folder path being typed is kept. */
  updateProgress(progress: IndexingProgress): void {
    if (!this.status) return;
    const pausedChanged = this.status.indexing.paused !== progress.paused;
    this.status = { ...this.status, indexing: progress };
    const line = this.element.querySelector('[data-testid="progress-line"]');
    const bar = this.element.querySelector('progress');
    if (pausedChanged || !line || !bar) {
      this.render();
      return;
    }
    line.textContent = progressLine(progress);
    this.setBar(bar, progress);
    const current = this.element.querySelector('.current-file');
    if (current) current.textContent = progress.current_file ? t('library.current', { file: progress.current_file }) : '';
  }

  private setBar(bar: HTMLProgressElement, progress: IndexingProgress): void {
    bar.max = progress.total ?? 1;
    if (progress.total) {
      bar.value = progress.done;
    } else if (progress.running) {
      bar.removeAttribute('value');
    } else {
      bar.value = 1;
    }
  }

  render(): void {
    clear(this.element);
    const status = this.status;
    this.element.append(h('h1', {}, t('library.title')));
    if (!status) return;
    const progress = status.indexing;
    const bar = h('progress');
    this.setBar(bar, progress);
    const pause = progress.paused
      ? h('button', { type: 'button', onclick: () => this.call(this.backend.resumeIndexing()) }, t('library.resume'))
      : h('button', { type: 'button', onclick: () => this.call(this.backend.pauseIndexing()) }, t('library.pause'));
    this.element.append(
      h('p', { class: 'counts' }, t('library.counts', {
        photos: formatNumber(status.photos),
        distinct: formatNumber(status.distinct_photos),
        regions: formatNumber(status.regions),
        pending: formatNumber(status.pending),
      })),
      h('div', { class: 'progress-panel' },
        h('p', { 'data-testid': 'progress-line' }, progressLine(progress)),
        bar,
        h('p', { class: 'current-file' }, progress.current_file ? t('library.current', { file: progress.current_file }) : ''),
        progress.last_error ? h('p', { class: 'error' }, t('library.error', { message: progress.last_error })) : null,
        pause,
      ),
      h('h2', {}, t('library.folders')),
    );
    const list = h('ul', { class: 'folder-list' });
    for (const folder of status.folders) {
      list.append(
        h('li', {},
          h('span', { class: `state state-${folder.state}` }, t(`library.state.${folder.state}` as MessageKey)),
          h('span', { class: 'folder-path' }, folder.path),
          h('span', { class: 'folder-count' }, t('library.photos', { count: formatNumber(Number(folder.photos)) })),
          h('button', { type: 'button', class: 'link', onclick: () => this.call(this.backend.removeFolder(folder.path)) }, t('library.remove')),
        ),
      );
    }
    this.element.append(list);
    const field = new FolderField(this.backend, t('library.add'), (path) => this.call(this.backend.addFolder(path)));
    this.element.append(field.element, h('h2', {}, t('library.failures')));
    if (status.failures.length === 0) {
      this.element.append(h('p', { class: 'muted' }, t('library.no_failures')));
    } else {
      const failures = h('ul', { class: 'failure-list' });
      for (const failure of status.failures) {
        failures.append(h('li', {}, h('span', { class: 'folder-path' }, failure.path), h('span', { class: 'reason' }, failure.reason)));
      }
      this.element.append(failures);
    }
  }

  private call(request: Promise<LibraryStatus>): void {
    request.then((status) => {
      this.update(status);
      this.onStatus(status);
    }, this.onError);
  }
}
