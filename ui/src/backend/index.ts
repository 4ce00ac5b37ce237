// The one module the UI uses to reach the backend. Two transports implement the same
// interface: HTTP (JSON and server-sent events, for `xunying serve`) and Tauri
// (commands and a Channel, for the desktop app).

import type {
  FolderState,
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
  ApiErrorBody,
} from '../bindings/api';

export type { FolderState };

/** An error the backend returned, with its stable kind. */
export class BackendError extends Error {
  constructor(readonly body: ApiErrorBody) {
    super(body.message);
    this.name = 'BackendError';
  }
}

/** Every call the UI makes to the backend. */
export interface Backend {
  search(query: SearchQuery): Promise<SearchResults>;
  searchByImage(image: Blob, query: SearchQuery): Promise<SearchResults>;
  photo(id: PhotoId): Promise<PhotoDetail>;
  /** A URL the UI can put in an `<img src>`. */
  imageUrl(id: PhotoId, variant: ImageVariant): string;
  status(): Promise<LibraryStatus>;
  addFolder(path: string): Promise<LibraryStatus>;
  removeFolder(path: string): Promise<LibraryStatus>;
  suggestFolders(prefix: string): Promise<PathSuggestions>;
  pauseIndexing(): Promise<LibraryStatus>;
  resumeIndexing(): Promise<LibraryStatus>;
  settings(): Promise<SettingsView>;
  updateSettings(settings: Settings): Promise<SettingsView>;
  models(): Promise<ModelStatus>;
  installModel(request: ModelInstallRequest): Promise<ModelBundleInfo>;
  verifyModel(name: string | null): Promise<ModelVerifyReport>;
  /** Opens the native folder picker (desktop app only); `null` when the user cancels. */
  pickFolder?(): Promise<string | null>;
  /** Shows the photo's file in the system file manager (desktop app only). */
  revealPhoto?(id: PhotoId): Promise<void>;
  /** Calls `listener` for every progress update until the returned function is called. */
  subscribe(listener: (update: ProgressUpdate) => void): () => void;
}

/** Builds a full query with defaults for every field the caller leaves out. */
export function makeQuery(partial: Partial<SearchQuery>): SearchQuery {
  return {
    text: null,
    like_photo: null,
    limit: 0,
    min_score: null,
    ...partial,
    filters: { folder: null, after: null, before: null, camera: null, types: [], ...(partial.filters ?? {}) },
  };
}
