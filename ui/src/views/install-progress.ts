// The text of a model installation's progress: the stage in the UI's language and, while
// downloading, the bytes received against the archive's size.

import type { ProgressUpdate } from '../bindings/api';
import { formatBytes, translate, type Locale, type MessageKey } from '../i18n';

type InstallUpdate = Extract<ProgressUpdate, { kind: 'model_install' }>;

const STAGES: Record<string, MessageKey> = {
  downloading: 'install.stage.downloading',
  checking_archive: 'install.stage.checking_archive',
  unpacking: 'install.stage.unpacking',
  checking_bundle: 'install.stage.checking_bundle',
};

/**
 * Follows one installation's updates. Only the first download update carries the
 * archive's size, so the tracker keeps it for the later ones.
 */
export class InstallProgress {
  private totalBytes: number | null = null;

  /** Records an update and returns the line to show for it. */
  describe(update: InstallUpdate, lang: Locale): string {
    if (update.total_bytes !== null) this.totalBytes = update.total_bytes;
    if (update.stage === 'done' || update.stage === 'failed') {
      this.totalBytes = null;
      return update.stage === 'done'
        ? translate(lang, 'settings.install_done')
        : translate(lang, 'settings.install_failed', { error: update.error ?? '' });
    }
    const key = STAGES[update.stage];
    let line = translate(lang, 'settings.install_stage', { stage: key ? translate(lang, key) : update.stage });
    if (update.received_bytes !== null) {
      const received = formatBytes(update.received_bytes, lang);
      const total = this.totalBytes;
      const bytes =
        total !== null && total > 0
          ? translate(lang, 'settings.install_bytes', {
              received,
              total: formatBytes(total, lang),
              percent: new Intl.NumberFormat(lang, { style: 'percent', maximumFractionDigits: 0 }).format(Math.min(update.received_bytes / total, 1)),
            })
          : translate(lang, 'settings.install_received', { received });
      line += ` ${bytes}`;
    }
    return line;
  }
}
