import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { BackendError, makeQuery } from './index';
import { QUERY_HEADER, TAURI_COMMANDS, TauriBackend, type TauriBridge } from './tauri';

interface Call {
  command: string;
  args?: Record<string, unknown> | Uint8Array;
  options?: { headers: Record<string, string> };
}

function fakeBridge(answer: (call: Call) => Promise<unknown>): { bridge: TauriBridge; calls: Call[] } {
  const calls: Call[] = [];
  const bridge: TauriBridge = {
    invoke<T>(command: string, args?: Record<string, unknown> | Uint8Array, options?: { headers: Record<string, string> }) {
      const call = { command, args, options };
      calls.push(call);
      return answer(call) as Promise<T>;
    },
    createChannel: (onMessage) => ({ onMessage }),
    imageUrl: (id, variant) => `photo://localhost/${variant}/${id}`,
  };
  return { bridge, calls };
}

describe('TauriBackend', () => {
  it('sends the example photo as raw bytes with the query header', async () => {
    const { bridge, calls } = fakeBridge(async () => ({ hits: [], truncated: false, notices: [], elapsed_ms: 1 }));
    const backend = new TauriBackend(bridge);
    const photo = new Blob([new Uint8Array([0xff, 0xd8, 0xff])]);

    await backend.searchByImage(photo, makeQuery({ text: '红色 #1 100%' }));

    expect(calls[0].command).toBe('search_by_image');
    expect(calls[0].args).toEqual(new Uint8Array([0xff, 0xd8, 0xff]));
    const header = calls[0].options?.headers[QUERY_HEADER] ?? '';
    expect(header).toMatch(/^[\x21-\x7e]*$/);
    expect(JSON.parse(decodeURIComponent(header)).text).toBe('红色 #1 100%');
  });

  it('turns a command error into a BackendError of its kind', async () => {
    const { bridge } = fakeBridge(async () => {
      throw { kind: 'not_found', message: 'Photo 7 not found.\n找不到照片 7。' };
    });

    const error = await new TauriBackend(bridge).photo(7).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(BackendError);
    expect((error as BackendError).body.kind).toBe('not_found');
  });

  it('reports a bare rejection as internal', async () => {
    const { bridge } = fakeBridge(async () => {
      throw 'Command search not allowed by ACL';
    });

    const error = await new TauriBackend(bridge).status().catch((e: unknown) => e);

    expect((error as BackendError).body).toEqual({ kind: 'internal', message: 'Command search not allowed by ACL' });
  });

  it('names only commands that src-tauri registers', () => {
    const source = readFileSync(new URL('../../../src-tauri/src/command_names.rs', import.meta.url), 'utf8');
    const registered = [...source.matchAll(/"([a-z_]+)"/g)].map((match) => match[1]).sort();

    expect(Object.values(TAURI_COMMANDS).sort()).toEqual(registered);
  });
});
