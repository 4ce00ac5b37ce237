// Interface strings in English and Simplified Chinese, and locale-aware formatting.
// Every key exists in both tables; a unit test checks it.

export type Locale = 'en' | 'zh-CN';

const en = {
  'app.title': 'Xunying',
  'app.tagline': 'Find photos by what is in them',
  'nav.search': 'Search',
  'nav.library': 'Library',
  'nav.settings': 'Settings',
  'lang.switch': '中文',
  'welcome.title': 'Welcome to Xunying',
  'welcome.intro': 'Choose the folders that hold your photos. Xunying indexes them on this computer; nothing leaves it.',
  'welcome.folder_label': 'Photo folder',
  'welcome.folder_placeholder': '/home/me/Pictures',
  'welcome.add': 'Add folder',
  'welcome.browse': 'Choose folder…',
  'welcome.start': 'Start searching',
  'welcome.model': 'Model',
  'welcome.model_ready': 'Model ready: {model}',
  'welcome.model_missing': 'No model is installed. Install one with `xunying models install` or in Settings.',
  'welcome.folders_added': 'Folders added',
  'search.placeholder': 'Describe a photo, e.g. "a red circle" or "海边的日落"',
  'search.label': 'Search photos',
  'search.by_image': 'Search by photo',
  'search.drop_hint': 'Drop a photo here to find similar ones',
  'search.example': 'Example photo',
  'search.clear_example': 'Clear example',
  'search.results': '{count} results in {ms} ms',
  'search.no_results': 'No matching photos',
  'search.empty': 'Type what you remember to search your photos.',
  'search.weak': 'weak match',
  'search.score': 'Score',
  'filters.title': 'Filters',
  'filters.folder': 'Folder',
  'filters.any_folder': 'All folders',
  'filters.after': 'From',
  'filters.before': 'To',
  'filters.type': 'File type',
  'filters.any_type': 'All types',
  'filters.camera': 'Camera',
  'filters.reset': 'Reset filters',
  'lightbox.close': 'Close',
  'lightbox.previous': 'Previous photo',
  'lightbox.next': 'Next photo',
  'lightbox.more_like_this': 'More like this',
  'lightbox.show_in_folder': 'Show in folder',
  'lightbox.path': 'Path',
  'lightbox.date': 'Date',
  'lightbox.camera': 'Camera',
  'lightbox.size': 'Size',
  'lightbox.dimensions': 'Dimensions',
  'lightbox.score': 'Score',
  'lightbox.region': 'Matched region',
  'lightbox.unknown': 'Unknown',
  'library.title': 'Library',
  'library.folders': 'Folders',
  'library.photos': '{count} photos',
  'library.counts': '{photos} photos · {distinct} distinct · {regions} regions · {pending} waiting',
  'library.remove': 'Remove',
  'library.add': 'Add folder',
  'library.state.watching': 'Watching',
  'library.state.polling': 'Polling',
  'library.state.offline': 'Offline',
  'library.state.idle': 'Waiting for scan',
  'library.indexing': 'Indexing',
  'library.idle': 'Up to date',
  'library.paused': 'Paused',
  'library.pause': 'Pause',
  'library.resume': 'Resume',
  'library.progress': '{done} of {total} · {rate} files/s · {eta} left',
  'library.current': 'Now: {file}',
  'library.failures': 'Files that failed',
  'library.no_failures': 'No failed files',
  'library.phase.scan': 'Scanning folders',
  'library.phase.embed': 'Embedding photos',
  'library.phase.rebuild_vectors': 'Rebuilding the vector index',
  'library.phase.rebuild_keywords': 'Rebuilding the keyword index',
  'library.phase.thumbnails': 'Writing thumbnails',
  'library.error': 'Background indexing failed: {message}',
  'settings.title': 'Settings',
  'settings.language': 'Language',
  'settings.language.auto': 'Follow the system',
  'settings.theme': 'Theme',
  'settings.theme.system': 'Follow the system',
  'settings.theme.light': 'Light',
  'settings.theme.dark': 'Dark',
  'settings.model': 'Model bundle',
  'settings.model.default': 'Default',
  'settings.device': 'Device',
  'settings.device_in_use': 'Running on: {device}',
  'settings.regions': 'Find regions inside photos',
  'settings.max_regions': 'Regions per photo',
  'settings.thumb_size': 'Thumbnail size (px)',
  'settings.save': 'Save',
  'settings.saved': 'Settings saved',
  'settings.restart': 'Restart Xunying to use the model bundle installed since it started.',
  'settings.models': 'Installed models',
  'settings.install': 'Install model',
  'settings.install_source': 'Bundle folder, archive or URL',
  'settings.verify': 'Verify',
  'settings.verified': 'Verified: {files} files checked',
  'settings.active': 'active',
  'settings.install_stage': 'Installing: {stage}',
  'settings.install_bytes': '{received} of {total} ({percent})',
  'settings.install_received': '{received} received',
  'settings.install_done': 'Model installed',
  'settings.install_failed': 'Installing the model failed: {error}',
  'install.stage.downloading': 'downloading',
  'install.stage.checking_archive': 'checking the archive',
  'install.stage.unpacking': 'unpacking',
  'install.stage.checking_bundle': 'checking the bundle',
  'error.generic': 'Something went wrong: {message}',
  'error.no_model': 'No model is installed, so search is not available yet.',
} as const;

export type MessageKey = keyof typeof en;

const zhCN: Record<MessageKey, string> = {
  'app.title': '寻影',
  'app.tagline': '按内容查找照片',
  'nav.search': '搜索',
  'nav.library': '图库',
  'nav.settings': '设置',
  'lang.switch': 'English',
  'welcome.title': '欢迎使用寻影',
  'welcome.intro': '请选择存放照片的文件夹。寻影在这台电脑上为它们建立索引，数据不会离开本机。',
  'welcome.folder_label': '照片文件夹',
  'welcome.folder_placeholder': '/home/我/图片',
  'welcome.add': '添加文件夹',
  'welcome.browse': '选择文件夹…',
  'welcome.start': '开始搜索',
  'welcome.model': '模型',
  'welcome.model_ready': '模型已就绪：{model}',
  'welcome.model_missing': '尚未安装模型。请用 `xunying models install` 或在设置中安装。',
  'welcome.folders_added': '已添加的文件夹',
  'search.placeholder': '描述一张照片，例如“红色的圆形”或 "a red circle"',
  'search.label': '搜索照片',
  'search.by_image': '以图搜图',
  'search.drop_hint': '把照片拖到这里，查找相似的照片',
  'search.example': '示例照片',
  'search.clear_example': '清除示例',
  'search.results': '{count} 个结果，用时 {ms} 毫秒',
  'search.no_results': '没有匹配的照片',
  'search.empty': '输入你记得的内容来搜索照片。',
  'search.weak': '弱匹配',
  'search.score': '得分',
  'filters.title': '筛选',
  'filters.folder': '文件夹',
  'filters.any_folder': '全部文件夹',
  'filters.after': '起始日期',
  'filters.before': '结束日期',
  'filters.type': '文件类型',
  'filters.any_type': '全部类型',
  'filters.camera': '相机',
  'filters.reset': '重置筛选',
  'lightbox.close': '关闭',
  'lightbox.previous': '上一张',
  'lightbox.next': '下一张',
  'lightbox.more_like_this': '查找相似照片',
  'lightbox.show_in_folder': '在文件夹中显示',
  'lightbox.path': '路径',
  'lightbox.date': '日期',
  'lightbox.camera': '相机',
  'lightbox.size': '大小',
  'lightbox.dimensions': '尺寸',
  'lightbox.score': '得分',
  'lightbox.region': '匹配区域',
  'lightbox.unknown': '未知',
  'library.title': '图库',
  'library.folders': '文件夹',
  'library.photos': '{count} 张照片',
  'library.counts': '{photos} 张照片 · {distinct} 张不重复 · {regions} 个区域 · {pending} 张待处理',
  'library.remove': '移除',
  'library.add': '添加文件夹',
  'library.state.watching': '监视中',
  'library.state.polling': '轮询中',
  'library.state.offline': '离线',
  'library.state.idle': '等待扫描',
  'library.indexing': '正在索引',
  'library.idle': '已是最新',
  'library.paused': '已暂停',
  'library.pause': '暂停',
  'library.resume': '继续',
  'library.progress': '{done} / {total} · 每秒 {rate} 个文件 · 剩余 {eta}',
  'library.current': '当前：{file}',
  'library.failures': '处理失败的文件',
  'library.no_failures': '没有失败的文件',
  'library.phase.scan': '正在扫描文件夹',
  'library.phase.embed': '正在嵌入照片',
  'library.phase.rebuild_vectors': '正在重建向量索引',
  'library.phase.rebuild_keywords': '正在重建关键词索引',
  'library.phase.thumbnails': '正在生成缩略图',
  'library.error': '后台索引失败：{message}',
  'settings.title': '设置',
  'settings.language': '语言',
  'settings.language.auto': '跟随系统',
  'settings.theme': '主题',
  'settings.theme.system': '跟随系统',
  'settings.theme.light': '浅色',
  'settings.theme.dark': '深色',
  'settings.model': '模型包',
  'settings.model.default': '默认',
  'settings.device': '运行设备',
  'settings.device_in_use': '正在使用：{device}',
  'settings.regions': '查找照片中的区域',
  'settings.max_regions': '每张照片的区域数',
  'settings.thumb_size': '缩略图尺寸（像素）',
  'settings.save': '保存',
  'settings.saved': '设置已保存',
  'settings.restart': '重新启动寻影后，才会使用启动后安装的模型包。',
  'settings.models': '已安装的模型',
  'settings.install': '安装模型',
  'settings.install_source': '模型包文件夹、压缩包或网址',
  'settings.verify': '校验',
  'settings.verified': '校验通过：已检查 {files} 个文件',
  'settings.active': '使用中',
  'settings.install_stage': '正在安装：{stage}',
  'settings.install_bytes': '{received} / {total}（{percent}）',
  'settings.install_received': '已接收 {received}',
  'settings.install_done': '模型已安装',
  'settings.install_failed': '安装模型失败：{error}',
  'install.stage.downloading': '下载中',
  'install.stage.checking_archive': '校验压缩包',
  'install.stage.unpacking': '解包',
  'install.stage.checking_bundle': '检查模型包',
  'error.generic': '出错了：{message}',
  'error.no_model': '尚未安装模型，暂时无法搜索。',
};

export const messages: Record<Locale, Record<MessageKey, string>> = { en, 'zh-CN': zhCN };

/** Picks the interface language from the browser's preferred languages. */
export function detectLocale(languages: readonly string[]): Locale {
  for (const language of languages) {
    const lower = language.toLowerCase();
    if (lower.startsWith('zh')) return 'zh-CN';
    if (lower.startsWith('en')) return 'en';
  }
  return 'en';
}

let current: Locale = 'en';
const listeners = new Set<(locale: Locale) => void>();

export function locale(): Locale {
  return current;
}

export function setLocale(next: Locale): void {
  current = next;
  document.documentElement.lang = next;
  for (const listener of listeners) listener(next);
}

export function onLocaleChange(listener: (locale: Locale) => void): void {
  listeners.add(listener);
}

/** Returns the message for `key` in `lang`, with `{name}` placeholders filled in. */
export function translate(lang: Locale, key: MessageKey, values: Record<string, string | number> = {}): string {
  const template = messages[lang][key];
  return template.replace(/\{(\w+)\}/g, (match, name: string) => (name in values ? String(values[name]) : match));
}

export function t(key: MessageKey, values?: Record<string, string | number>): string {
  return translate(current, key, values);
}

export function formatNumber(value: number, lang: Locale = current, digits = 0): string {
  return new Intl.NumberFormat(lang, { maximumFractionDigits: digits, minimumFractionDigits: digits }).format(value);
}

export function formatScore(score: number, lang: Locale = current): string {
  return new Intl.NumberFormat(lang, { style: 'percent', maximumFractionDigits: 0 }).format(score);
}

export function formatBytes(bytes: number, lang: Locale = current): string {
  const units = ['byte', 'kilobyte', 'megabyte', 'gigabyte'] as const;
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return new Intl.NumberFormat(lang, { style: 'unit', unit: units[unit], unitDisplay: 'short', maximumFractionDigits: 1 }).format(value);
}

/** Formats an EXIF capture time (`2024-05-01T09:30:00` or `2024:05:01 09:30:00`) as a local date and time. */
export function formatTakenAt(takenAt: string, lang: Locale = current): string {
  const match = /^(\d{4})[-:](\d{2})[-:](\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2}))?)?/.exec(takenAt);
  if (!match) return takenAt;
  const [, y, mo, d, h, mi, s] = match;
  const date = new Date(Number(y), Number(mo) - 1, Number(d), Number(h ?? 0), Number(mi ?? 0), Number(s ?? 0));
  const options: Intl.DateTimeFormatOptions = h === undefined ? { dateStyle: 'long' } : { dateStyle: 'long', timeStyle: 'short' };
  return new Intl.DateTimeFormat(lang, options).format(date);
}

export function formatDateMs(ms: number, lang: Locale = current): string {
  return new Intl.DateTimeFormat(lang, { dateStyle: 'long', timeStyle: 'short' }).format(new Date(ms));
}

/** Formats seconds as a short duration, such as "3 min" or "1 hr 5 min". */
export function formatDuration(seconds: number, lang: Locale = current): string {
  const total = Math.max(0, Math.round(seconds));
  const unit = (value: number, name: 'hour' | 'minute' | 'second') =>
    new Intl.NumberFormat(lang, { style: 'unit', unit: name, unitDisplay: 'short' }).format(value);
  if (total < 60) return unit(total, 'second');
  const minutes = Math.floor(total / 60) % 60;
  const hours = Math.floor(total / 3600);
  return hours > 0 ? `${unit(hours, 'hour')} ${unit(minutes, 'minute')}` : unit(minutes, 'minute');
}
