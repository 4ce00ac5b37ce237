// The HTTP transport: JSON requests to `/api/*` on the page's own origin, progress as
// server-sent events from `/api/events`. The access token travels in the session cookie
// that the server set on the first page load.

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

export class HttpBackend implements Backend {
  constructor(private readonly base = '') {}

  private async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const init: RequestInit = { method, credentials: 'same-origin', headers: {} };
    if (body !== undefined) {
      init.body = JSON.stringify(body);
      (init.headers as Record<string, string>)['Content-Type'] = 'application/json';
    }
    const response = await fetch(`${this.base}/api${path}`, init);
    return this.parse<T>(response);
  }

  private async parse<T>(response: Response): Promise<T> {
    if (response.ok) return (await response.json()) as T;
    let body: ApiErrorBody;
    try {
      body = (await response.json()) as ApiErrorBody;
    } catch {
      body = { kind: 'internal', message: `${response.status} ${response.statusText}` };
    }
    throw new BackendError(body);
  }

  search(query: SearchQuery) {
    return this.request<SearchResults>('POST', '/search', query);
  }

  async searchByImage(image: Blob, query: SearchQuery) {
    const params = new URLSearchParams({ query: JSON.stringify(query) });
    const response = await fetch(`${this.base}/api/search/image?${params}`, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'Content-Type': 'application/octet-stream' },
      body: image,
    });
    return this.parse<SearchResults>(response);
  }

  photo(id: PhotoId) {
    return this.request<PhotoDetail>('GET', `/photos/${id}`);
  }

  imageUrl(id: PhotoId, variant: ImageVariant): string {
    return `${this.base}/api/photos/${id}/${variant}`;
  }

  status() {
    return this.request<LibraryStatus>('GET', '/status');
  }

  addFolder(path: string) {
    return this.request<LibraryStatus>('POST', '/folders', { path });
  }

  removeFolder(path: string) {
    return this.request<LibraryStatus>('DELETE', '/folders', { path });
  }

  suggestFolders(prefix: string) {
    return this.request<PathSuggestions>('GET', `/folders/suggest?${new URLSearchParams({ prefix })}`);
  }

  pauseIndexing() {
    return this.request<LibraryStatus>('POST', '/indexing/pause');
  }

  resumeIndexing() {
    return this.request<LibraryStatus>('POST', '/indexing/resume');
  }

  settings() {
    return this.request<SettingsView>('GET', '/settings');
  }

  updateSettings(settings: Settings) {
    return this.request<SettingsView>('PUT', '/settings', settings);
  }

  models() {
    return this.request<ModelStatus>('GET', '/models');
  }

  installModel(request: ModelInstallRequest) {
    return this.request<ModelBundleInfo>('POST', '/models/install', request);
  }

  verifyModel(name: string | null) {
    return this.request<ModelVerifyReport>('POST', '/models/verify', { name });
  }

  subscribe(listener: (update: ProgressUpdate) => void): () => void {
    const source = new EventSource(`${this.base}/api/events`, { withCredentials: true });
    source.addEventListener('progress', (event) => {
      try {
        listener(JSON.parse((event as MessageEvent<string>).data) as ProgressUpdate);
      } catch (error) {
        console.warn('ignored a malformed progress event', error);
      }
    });
    return () => source.close();
  }
}
