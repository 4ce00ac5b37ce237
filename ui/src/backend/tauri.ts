// The Tauri transport: each Backend method is one Tauri command over `crate::api::Service`,
// and progress arrives on a Tauri `Channel`. The desktop shell supplies the bridge (the
// `invoke`, `Channel` and image URL functions of `@tauri-apps/api`) and registers the
// commands named in `TAURI_COMMANDS`, whose arguments are the objects passed below.

import type { Backend } from './index';
import { BackendError } from './index';
import type {
  ApiErrorBody,
  ImageVariant,
  LibraryStatus,
  ModelBundleInfo,
  ModelInstallRequest,
  ModelStatus,
  ModelVerifyReport,
  PathSuggestions,
  PhotoDetail,
  PhotoId,
  ProgressUpdate,
  SearchQuery,
  SearchResults,
  Settings,
  SettingsView,
} from '../bindings/api';

/** Functions the desktop shell provides. */
export interface TauriBridge {
  /** `invoke` of `@tauri-apps/api/core`; a command's `Err` rejects with an `ApiErrorBody`. */
  invoke<T>(command: string, args?: Record<string, unknown>): Promise<T>;
  /** Creates a `Channel` whose messages go to `onMessage`; it is passed to `subscribe`. */
  createChannel<T>(onMessage: (message: T) => void): unknown;
  /** A URL for a photo rendering, such as one from a custom URI scheme handler. */
  imageUrl(id: PhotoId, variant: ImageVariant): string;
  /** Reads a dropped or chosen file's bytes, which `search_by_image` receives. */
  readBlob?(image: Blob): Promise<Uint8Array>;
}

/** The commands the desktop shell must register, by Backend method. */
export const TAURI_COMMANDS = {
  search: 'search',
  searchByImage: 'search_by_image',
  photo: 'photo',
  status: 'status',
  addFolder: 'add_folder',
  removeFolder: 'remove_folder',
  suggestFolders: 'suggest_folders',
  pauseIndexing: 'pause_indexing',
  resumeIndexing: 'resume_indexing',
  settings: 'settings',
  updateSettings: 'update_settings',
  models: 'models',
  installModel: 'install_model',
  verifyModel: 'verify_model',
  subscribe: 'subscribe',
} as const;

export class TauriBackend implements Backend {
  constructor(private readonly bridge: TauriBridge) {}

  private async call<T>(command: string, args?: Record<string, unknown>): Promise<T> {
    try {
      return await this.bridge.invoke<T>(command, args);
    } catch (error) {
      if (error && typeof error === 'object' && 'kind' in error && 'message' in error) {
        throw new BackendError(error as ApiErrorBody);
      }
      throw new BackendError({ kind: 'internal', message: String(error) });
    }
  }

  search(query: SearchQuery) {
    return this.call<SearchResults>(TAURI_COMMANDS.search, { query });
  }

  async searchByImage(image: Blob, query: SearchQuery) {
    const bytes = this.bridge.readBlob ? await this.bridge.readBlob(image) : new Uint8Array(await image.arrayBuffer());
    return this.call<SearchResults>(TAURI_COMMANDS.searchByImage, { image: Array.from(bytes), query });
  }

  photo(id: PhotoId) {
    return this.call<PhotoDetail>(TAURI_COMMANDS.photo, { id });
  }

  imageUrl(id: PhotoId, variant: ImageVariant): string {
    return this.bridge.imageUrl(id, variant);
  }

  status() {
    return this.call<LibraryStatus>(TAURI_COMMANDS.status);
  }

  addFolder(path: string) {
    return this.call<LibraryStatus>(TAURI_COMMANDS.addFolder, { path });
  }

  removeFolder(path: string) {
    return this.call<LibraryStatus>(TAURI_COMMANDS.removeFolder, { path });
  }

  suggestFolders(prefix: string) {
    return this.call<PathSuggestions>(TAURI_COMMANDS.suggestFolders, { prefix });
  }

  pauseIndexing() {
    return this.call<LibraryStatus>(TAURI_COMMANDS.pauseIndexing);
  }

  resumeIndexing() {
    return this.call<LibraryStatus>(TAURI_COMMANDS.resumeIndexing);
  }

  settings() {
    return this.call<SettingsView>(TAURI_COMMANDS.settings);
  }

  updateSettings(settings: Settings) {
    return this.call<SettingsView>(TAURI_COMMANDS.updateSettings, { settings });
  }

  models() {
    return this.call<ModelStatus>(TAURI_COMMANDS.models);
  }

  installModel(request: ModelInstallRequest) {
    return this.call<ModelBundleInfo>(TAURI_COMMANDS.installModel, { request });
  }

  verifyModel(name: string | null) {
    return this.call<ModelVerifyReport>(TAURI_COMMANDS.verifyModel, { name });
  }

  subscribe(listener: (update: ProgressUpdate) => void): () => void {
    let active = true;
    const channel = this.bridge.createChannel<ProgressUpdate>((update) => {
      if (active) listener(update);
    });
    this.call<void>(TAURI_COMMANDS.subscribe, { channel }).catch((error) => console.warn('progress channel failed', error));
    // NOTE: the shell's `subscribe` command should drop its sender when the channel's
    // webview side goes away; this only stops delivering to `listener`.
    return () => {
      active = false;
    };
  }
}
