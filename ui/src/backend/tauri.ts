// The Tauri transport: each Backend method is one Tauri command over `crate::api::Service`,
// and progress arrives on a Tauri `Channel`. The bridge (`tauri-bridge.ts`) supplies the
// `invoke`, `Channel` and image URL functions of `@tauri-apps/api`. src-tauri registers
// the commands named in `TAURI_COMMANDS`, whose arguments are the objects passed below.

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

/** The `@tauri-apps/api` functions that the transport calls. */
export interface TauriBridge {
  /**
   * `invoke` of `@tauri-apps/api/core`; a command's `Err` rejects with an `ApiErrorBody`.
   * Bytes as `args` travel as the raw request body, with `options.headers` beside them.
   */
  invoke<T>(command: string, args?: Record<string, unknown> | Uint8Array, options?: { headers: Record<string, string> }): Promise<T>;
  /** Creates a `Channel` whose messages go to `onMessage`; it is passed to `subscribe`. */
  createChannel<T>(onMessage: (message: T) => void): unknown;
  /** A URL for a photo rendering, such as one from a custom URI scheme handler. */
  imageUrl(id: PhotoId, variant: ImageVariant): string;
}

/** Header of `search_by_image` with the `SearchQuery` as percent-encoded JSON. */
export const QUERY_HEADER = 'x-xunying-query';

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
  pickFolder: 'pick_folder',
  revealPhoto: 'reveal_photo',
} as const;

export class TauriBackend implements Backend {
  constructor(private readonly bridge: TauriBridge) {}

  private async call<T>(
    command: string,
    args?: Record<string, unknown> | Uint8Array,
    options?: { headers: Record<string, string> },
  ): Promise<T> {
    try {
      return await this.bridge.invoke<T>(command, args, options);
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
    // The photo goes as the raw body: a JSON array of its bytes would be several times
    // its size. Header values must be ASCII, hence the percent-encoding.
    const bytes = new Uint8Array(await image.arrayBuffer());
    const headers = { [QUERY_HEADER]: encodeURIComponent(JSON.stringify(query)) };
    return this.call<SearchResults>(TAURI_COMMANDS.searchByImage, bytes, { headers });
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

  /** Opens the native folder picker; `null` when the user cancels. */
  pickFolder() {
    return this.call<string | null>(TAURI_COMMANDS.pickFolder);
  }

  /** Shows the photo's file in the system file manager. */
  revealPhoto(id: PhotoId) {
    return this.call<void>(TAURI_COMMANDS.revealPhoto, { id });
  }

  subscribe(listener: (update: ProgressUpdate) => void): () => void {
    let active = true;
    const channel = this.bridge.createChannel<ProgressUpdate>((update) => {
      if (active) listener(update);
    });
    this.call<void>(TAURI_COMMANDS.subscribe, { channel }).catch((error) => console.warn('progress channel failed', error));
    // src-tauri keeps one channel per webview and replaces it when the page subscribes
    // again, so this only stops delivering to `listener`.
    return () => {
      active = false;
    };
  }
}
