// The application shell: header with navigation and the language switch, the four
// screens, routing by URL hash, progress updates and global keys.

import type { LibraryStatus, ProgressUpdate, Settings } from './bindings/api';
import { type Backend, BackendError } from './backend';
import { h, clear } from './dom';
import { detectLocale, locale, setLocale, t, type Locale, type MessageKey } from './i18n';
import { SearchView } from './views/search';
import { LibraryView } from './views/library';
import { SettingsView } from './views/settings';
import { WelcomeView } from './views/welcome';

type Route = 'welcome' | 'search' | 'library' | 'settings';
const ROUTES: Route[] = ['welcome', 'search', 'library', 'settings'];

export class App {
  private readonly main: HTMLElement;
  private readonly nav: HTMLElement;
  private readonly toast: HTMLElement;
  private readonly search: SearchView;
  private readonly library: LibraryView;
  private readonly settingsView: SettingsView;
  private readonly welcome: WelcomeView;
  private settings: Settings | null = null;
  private route: Route = 'search';

  constructor(private readonly root: HTMLElement, private readonly backend: Backend) {
    const report = (error: unknown) => this.showError(error);
    this.search = new SearchView(backend, 180, report);
    this.library = new LibraryView(backend, (status) => this.onStatus(status), report);
    this.settingsView = new SettingsView(backend, (settings) => this.applySettings(settings), report);
    this.welcome = new WelcomeView(backend, (status) => this.onStatus(status), () => this.go('search'), report);
    this.nav = h('nav', { class: 'nav' });
    this.main = h('main', { class: 'main' });
    this.toast = h('div', { class: 'toast', role: 'alert', hidden: true });
    root.append(h('header', { class: 'header' }, h('span', { class: 'brand' }, '寻影 Xunying'), this.nav), this.main, this.toast);
    window.addEventListener('hashchange', () => this.show(this.routeFromHash()));
    document.addEventListener('keydown', (event) => this.onKey(event));
  }

  async start(): Promise<void> {
    setLocale(detectLocale(navigator.languages));
    try {
      const view = await this.backend.settings();
      this.applySettings(view.settings);
    } catch (error) {
      this.showError(error);
    }
    this.backend.subscribe((update) => this.onProgress(update));
    let status: LibraryStatus | null = null;
    try {
      status = await this.backend.status();
      this.onStatus(status);
    } catch (error) {
      this.showError(error);
    }
    const fromHash = this.routeFromHash(null);
    this.show(fromHash ?? (status && status.folders.length === 0 ? 'welcome' : 'search'));
  }

  private routeFromHash(fallback: Route | null = 'search'): Route {
    const name = location.hash.replace(/^#\/?/, '') as Route;
    return (ROUTES.includes(name) ? name : fallback) as Route;
  }

  go(route: Route): void {
    location.hash = `#/${route}`;
  }

  private show(route: Route): void {
    this.route = route;
    this.renderNav();
    clear(this.main);
    const views = { welcome: this.welcome, search: this.search, library: this.library, settings: this.settingsView };
    this.main.append(views[route].element);
    if (route === 'welcome') this.welcome.load();
    if (route === 'settings') this.settingsView.load();
    if (route === 'library') this.backend.status().then((status) => this.onStatus(status), (error) => this.showError(error));
    if (route === 'search') this.search.input.focus();
  }

  private renderNav(): void {
    clear(this.nav);
    const link = (route: Route, key: MessageKey) =>
      h('a', { href: `#/${route}`, class: this.route === route ? 'active' : null, 'aria-current': this.route === route ? 'page' : null }, t(key));
    const other: Locale = locale() === 'en' ? 'zh-CN' : 'en';
    this.nav.append(
      link('search', 'nav.search'),
      link('library', 'nav.library'),
      link('settings', 'nav.settings'),
      h('button', { type: 'button', class: 'lang-switch', lang: other, 'data-testid': 'lang-switch', onclick: () => this.switchLanguage(other) }, t('lang.switch')),
    );
  }

  private switchLanguage(next: Locale): void {
    this.relabel(next);
    if (this.settings) {
      const settings = { ...this.settings, language: next };
      this.backend.updateSettings(settings).then((view) => (this.settings = view.settings), (error) => this.showError(error));
    }
  }

  private relabel(next: Locale): void {
    setLocale(next);
    document.title = `${t('app.title')} · ${t('app.tagline')}`;
    this.renderNav();
    this.search.relabel();
    this.library.render();
    this.welcome.render();
    this.settingsView.render();
  }

  private applySettings(settings: Settings): void {
    this.settings = settings;
    const next = settings.language === 'auto' ? detectLocale(navigator.languages) : settings.language;
    if (next !== locale() || !document.title) this.relabel(next);
    document.documentElement.dataset.theme = settings.theme;
    this.search.setTileSize(settings.thumbnail_size_px);
  }

  private onStatus(status: LibraryStatus): void {
    this.library.update(status);
    this.welcome.update(status);
    this.search.setFolders(status);
  }

  private onProgress(update: ProgressUpdate): void {
    if (update.kind === 'indexing') this.library.updateProgress(update.progress);
    if (update.kind === 'library_changed' && this.route === 'library') {
      this.backend.status().then((status) => this.onStatus(status), () => undefined);
    }
    this.settingsView.onProgress(update);
  }

  private onKey(event: KeyboardEvent): void {
    const target = event.target as HTMLElement | null;
    const typing = target && (target.tagName === 'INPUT' || target.tagName === 'TEXTAREA' || target.tagName === 'SELECT');
    if (event.key === '/' && !typing && !this.search.lightbox.isOpen) {
      event.preventDefault();
      if (this.route !== 'search') this.go('search');
      this.search.input.focus();
      this.search.input.select();
    } else if (event.key === 'Escape' && typing && target === this.search.input) {
      this.search.input.blur();
      this.search.focusGrid();
    }
  }

  showError(error: unknown): void {
    let message: string;
    if (error instanceof BackendError) {
      const lines = error.body.message.split('\n');
      message = error.body.kind === 'no_model' ? t('error.no_model') : (locale() === 'zh-CN' ? lines[1] : lines[0]) ?? lines[0];
    } else {
      message = t('error.generic', { message: String(error) });
    }
    this.toast.textContent = message;
    this.toast.hidden = false;
    setTimeout(() => (this.toast.hidden = true), 6000);
  }
}
