// The first-run screen: requests photo folders, shows the model status, and starts
// indexing by adding folders (the backend indexes them in the background).

import type { LibraryStatus, ModelStatus } from '../bindings/api';
import type { Backend } from '../backend';
import { append, h, clear } from '../dom';
import { t } from '../i18n';
import { FolderField } from './folder-field';
import { progressLine } from './library';

export class WelcomeView {
  readonly element: HTMLElement;
  private status: LibraryStatus | null = null;
  private model: ModelStatus | null = null;

  constructor(
    private readonly backend: Backend,
    private readonly onStatus: (status: LibraryStatus) => void,
    private readonly onDone: () => void,
    private readonly onError: (error: unknown) => void,
  ) {
    this.element = h('section', { class: 'view welcome-view', 'data-view': 'welcome' });
  }

  async load(): Promise<void> {
    try {
      this.model = await this.backend.models();
    } catch (error) {
      this.onError(error);
    }
    this.render();
  }

  update(status: LibraryStatus): void {
    this.status = status;
    this.render();
  }

  render(): void {
    clear(this.element);
    const field = new FolderField(this.backend, t('welcome.add'), async (path) => {
      try {
        const status = await this.backend.addFolder(path);
        this.update(status);
        this.onStatus(status);
      } catch (error) {
        this.onError(error);
      }
    });
    const model = this.model;
    const modelLine = model?.installed
      ? h('p', { class: 'ok', 'data-testid': 'model-status' }, t('welcome.model_ready', { model: model.model_id ?? '' }))
      : h('p', { class: 'warning', 'data-testid': 'model-status' }, t('welcome.model_missing'));
    const folders = this.status?.folders ?? [];
    append(
      this.element,
      h('h1', {}, t('welcome.title')),
      h('p', { class: 'intro' }, t('welcome.intro')),
      h('label', { class: 'field-label' }, t('welcome.folder_label')),
      field.element,
      folders.length > 0 ? h('h2', {}, t('welcome.folders_added')) : null,
      folders.length > 0 ? h('ul', { class: 'folder-list' }, ...folders.map((f) => h('li', {}, h('span', { class: 'folder-path' }, f.path)))) : null,
      this.status ? h('p', { class: 'muted' }, progressLine(this.status.indexing)) : null,
      h('h2', {}, t('welcome.model')),
      modelLine,
      h('button', { type: 'button', class: 'primary', disabled: folders.length === 0, onclick: () => this.onDone() }, t('welcome.start')),
    );
  }
}
