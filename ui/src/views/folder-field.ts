// A folder path field with suggestions from the backend as the user types.

import type { Backend } from '../backend';
import { h, debounce } from '../dom';
import { t } from '../i18n';

let nextListId = 0;

export class FolderField {
  readonly element: HTMLFormElement;
  readonly input: HTMLInputElement;

  constructor(backend: Backend, buttonLabel: string, onSubmit: (path: string) => void) {
    const listId = `folder-suggestions-${nextListId++}`;
    const list = h('datalist', { id: listId });
    this.input = h('input', {
      type: 'text',
      class: 'folder-input',
      list: listId,
      placeholder: t('welcome.folder_placeholder'),
      'aria-label': t('welcome.folder_label'),
      autocomplete: 'off',
      spellcheck: 'false',
    });
    this.input.addEventListener('input', debounce(async () => {
      const prefix = this.input.value;
      if (!prefix.startsWith('/') && !/^[A-Za-z]:\\/.test(prefix)) return;
      try {
        const suggestions = await backend.suggestFolders(prefix);
        list.replaceChildren(...suggestions.folders.map((folder) => h('option', { value: folder })));
      } catch {
        // Suggestions are a convenience; a failed lookup leaves the list as it was.
      }
    }, 150));
    this.element = h('form', { class: 'folder-field' }, this.input, list, h('button', { type: 'submit', class: 'primary' }, buttonLabel));
    const pickFolder = backend.pickFolder?.bind(backend);
    if (pickFolder) {
      const browse = async () => {
        const picked = await pickFolder();
        if (picked) onSubmit(picked);
      };
      this.element.append(h('button', { type: 'button', class: 'secondary', 'data-testid': 'pick-folder', onclick: () => browse().catch((error) => console.warn('folder picker failed', error)) }, t('welcome.browse')));
    }
    this.element.addEventListener('submit', (event) => {
      event.preventDefault();
      const path = this.input.value.trim();
      if (path) {
        onSubmit(path);
        this.input.value = '';
      }
    });
  }
}
