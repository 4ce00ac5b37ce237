// The desktop app's half of the Tauri transport: the `@tauri-apps/api` calls behind
// `TauriBridge`, and URLs on the `photo:` scheme that src-tauri serves by catalog id.

import { Channel, convertFileSrc, invoke, isTauri } from '@tauri-apps/api/core';
import type { ImageVariant, PhotoId } from '../bindings/api';
import type { TauriBridge } from './tauri';

export { isTauri };

/**
 * URL of a photo rendering: `photo://localhost/thumb/12` on Linux and macOS,
 * `http://photo.localhost/thumb/12` on Windows. No file path appears in it.
 */
export function photoUrl(id: PhotoId, variant: ImageVariant): string {
  return `${convertFileSrc('', 'photo')}${variant}/${id}`;
}

export const tauriBridge: TauriBridge = {
  invoke: (command, args, options) => invoke(command, args, options),
  createChannel<T>(onMessage: (message: T) => void) {
    const channel = new Channel<T>();
    channel.onmessage = onMessage;
    return channel;
  },
  imageUrl: photoUrl,
};
