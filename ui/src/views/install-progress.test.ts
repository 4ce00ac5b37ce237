import { describe, expect, it } from 'vitest';
import type { ProgressUpdate } from '../bindings/api';
import { InstallProgress } from './install-progress';

type InstallUpdate = Extract<ProgressUpdate, { kind: 'model_install' }>;

const update = (stage: string, received: number | null, total: number | null, error: string | null = null): InstallUpdate => ({
  kind: 'model_install',
  stage,
  received_bytes: received,
  total_bytes: total,
  error,
});

describe('install progress', () => {
  it('keeps the archive size from the first download update', () => {
    const progress = new InstallProgress();
    expect(progress.describe(update('downloading', 0, 4 * 1024 * 1024), 'en')).toBe('Installing: downloading 0 byte of 4 MB (0%)');
    expect(progress.describe(update('downloading', 1024 * 1024, null), 'en')).toBe('Installing: downloading 1 MB of 4 MB (25%)');
  });

  it('names stages in Chinese', () => {
    const progress = new InstallProgress();
    expect(progress.describe(update('downloading', 2 * 1024 * 1024, 4 * 1024 * 1024), 'zh-CN')).toBe('正在安装：下载中 2 MB / 4 MB（50%）');
    expect(progress.describe(update('unpacking', null, null), 'zh-CN')).toBe('正在安装：解包');
  });

  it('shows bytes alone when the size is unknown', () => {
    const progress = new InstallProgress();
    expect(progress.describe(update('downloading', 2048, null), 'en')).toBe('Installing: downloading 2 kB received');
  });

  it('ends with done or the error', () => {
    const progress = new InstallProgress();
    progress.describe(update('downloading', 0, 100), 'en');
    expect(progress.describe(update('done', null, null), 'en')).toBe('Model installed');
    expect(progress.describe(update('failed', null, null, 'checksum mismatch'), 'zh-CN')).toBe('安装模型失败：checksum mismatch');
    expect(progress.describe(update('downloading', 50, null), 'en')).toBe('Installing: downloading 50 byte received');
  });

  it('shows an unknown stage as it came', () => {
    expect(new InstallProgress().describe(update('verifying', null, null), 'en')).toBe('Installing: verifying');
  });
});
