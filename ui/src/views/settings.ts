// The settings screen: language, theme, model bundle, device (with the provider in
// use), regions, thumbnail size, and the installed models with verify and install.

import type { ModelStatus, ProgressUpdate, Settings, SettingsView as SettingsData } from '../bindings/api';
import type { Backend } from '../backend';
import { h, clear } from '../dom';
import { formatBytes, locale, t } from '../i18n';
import { InstallProgress } from './install-progress';

export class SettingsView {
  readonly element: HTMLElement;
  private data: SettingsData | null = null;
  private models: ModelStatus | null = null;
  private notice = '';
  private readonly installProgress = new InstallProgress();

  constructor(
    private readonly backend: Backend,
    private readonly onSaved: (settings: Settings) => void,
    private readonly onError: (error: unknown) => void,
  ) {
    this.element = h('section', { class: 'view settings-view', 'data-view': 'settings' });
  }

  async load(): Promise<void> {
    try {
      [this.data, this.models] = await Promise.all([this.backend.settings(), this.backend.models()]);
      this.render();
    } catch (error) {
      this.onError(error);
    }
  }

  onProgress(update: ProgressUpdate): void {
    if (update.kind !== 'model_install') return;
    this.notice = this.installProgress.describe(update, locale());
    this.render();
  }

  render(): void {
    clear(this.element);
    this.element.append(h('h1', {}, t('settings.title')));
    const data = this.data;
    if (!data) return;
    const s = data.settings;
    const select = (label: string, value: string, options: [string, string][], testId: string) => {
      const element = h('select', { 'aria-label': label, name: testId, 'data-testid': testId });
      for (const [optionValue, text] of options) element.append(h('option', { value: optionValue, selected: optionValue === value }, text));
      return { label: h('label', {}, label, element), element };
    };
    const language = select(t('settings.language'), s.language, [['auto', t('settings.language.auto')], ['zh-CN', '简体中文'], ['en', 'English']], 'setting-language');
    const theme = select(t('settings.theme'), s.theme, [['system', t('settings.theme.system')], ['light', t('settings.theme.light')], ['dark', t('settings.theme.dark')]], 'setting-theme');
    const bundles: [string, string][] = [['', t('settings.model.default')], ...(this.models?.bundles ?? []).map((b): [string, string] => [b.name, b.name])];
    const bundle = select(t('settings.model'), s.model_bundle ?? '', bundles, 'setting-model');
    const devices: [string, string][] = [['auto', 'auto'], ...data.devices_available.map((d): [string, string] => [d.toLowerCase(), d])];
    const device = select(t('settings.device'), s.device, devices, 'setting-device');
    const regions = h('input', { type: 'checkbox', checked: s.regions_enabled });
    const maxRegions = h('input', { type: 'number', min: 1, max: 256, value: s.max_regions_per_photo });
    const thumbSize = h('input', { type: 'number', min: 64, max: 512, step: 10, value: s.thumbnail_size_px });

    const form = h('form', { class: 'settings-form' },
      language.label,
      theme.label,
      bundle.label,
      device.label,
      h('p', { class: 'muted' }, t('settings.device_in_use', { device: data.device_in_use ?? '—' })),
      h('label', { class: 'inline' }, regions, t('settings.regions')),
      h('label', {}, t('settings.max_regions'), maxRegions),
      h('label', {}, t('settings.thumb_size'), thumbSize),
      h('button', { type: 'submit', class: 'primary' }, t('settings.save')),
    );
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      const next: Settings = {
        language: language.element.value as Settings['language'],
        theme: theme.element.value as Settings['theme'],
        model_bundle: bundle.element.value || null,
        device: device.element.value,
        regions_enabled: regions.checked,
        max_regions_per_photo: Number(maxRegions.value),
        thumbnail_size_px: Number(thumbSize.value),
      };
      try {
        this.data = await this.backend.updateSettings(next);
        this.notice = t('settings.saved');
        this.onSaved(this.data.settings);
        this.render();
      } catch (error) {
        this.onError(error);
      }
    });
    this.element.append(form);
    if (data.restart_required) this.element.append(h('p', { class: 'warning' }, t('settings.restart')));
    if (this.notice) this.element.append(h('p', { class: 'notice', role: 'status' }, this.notice));
    this.renderModels();
  }

  private renderModels(): void {
    this.element.append(h('h2', {}, t('settings.models')));
    const list = h('ul', { class: 'model-list' });
    for (const bundle of this.models?.bundles ?? []) {
      list.append(h('li', {},
        h('strong', {}, bundle.name),
        bundle.active ? h('span', { class: 'state state-watching' }, t('settings.active')) : null,
        h('span', { class: 'muted' }, [bundle.variant, bundle.precision, formatBytes(bundle.size_bytes)].filter(Boolean).join(' · ')),
        bundle.error ? h('span', { class: 'error' }, bundle.error) : null,
        h('button', { type: 'button', class: 'link', onclick: () => this.verify(bundle.name) }, t('settings.verify')),
      ));
    }
    const source = h('input', { type: 'text', placeholder: t('settings.install_source'), 'aria-label': t('settings.install_source') });
    const install = h('form', { class: 'folder-field' }, source, h('button', { type: 'submit' }, t('settings.install')));
    install.addEventListener('submit', async (event) => {
      event.preventDefault();
      if (!source.value.trim()) return;
      try {
        await this.backend.installModel({ source: source.value.trim(), sha256: null, activate: false });
        await this.load();
      } catch (error) {
        this.onError(error);
      }
    });
    this.element.append(list, install);
  }

  private async verify(name: string): Promise<void> {
    try {
      const report = await this.backend.verifyModel(name);
      this.notice = t('settings.verified', { files: report.files_checked });
      this.render();
    } catch (error) {
      this.onError(error);
    }
  }
}
