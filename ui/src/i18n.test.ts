import { describe, expect, it } from 'vitest';
import { detectLocale, formatBytes, formatDuration, formatNumber, formatScore, formatTakenAt, messages, translate } from './i18n';

describe('i18n', () => {
  it('has every key in both languages', () => {
    const english = Object.keys(messages.en).sort();
    const chinese = Object.keys(messages['zh-CN']).sort();
    expect(chinese).toEqual(english);
  });

  it('has no empty or untranslated Chinese strings', () => {
    const sameAsEnglish = Object.entries(messages['zh-CN'])
      .filter(([key, value]) => value.trim() === '' || (value === messages.en[key as keyof typeof messages.en] && !/^[\d\W]*$/.test(value)))
      .map(([key]) => key);
    expect(sameAsEnglish).toEqual([]);
  });

  it('keeps placeholders identical across languages', () => {
    const placeholders = (text: string) => (text.match(/\{\w+\}/g) ?? []).sort();
    for (const key of Object.keys(messages.en) as (keyof typeof messages.en)[]) {
      expect(placeholders(messages['zh-CN'][key]), key).toEqual(placeholders(messages.en[key]));
    }
  });

  it('fills placeholders', () => {
    expect(translate('en', 'search.results', { count: 3, ms: 12 })).toBe('3 results in 12 ms');
    expect(translate('zh-CN', 'search.results', { count: 3, ms: 12 })).toBe('3 个结果，用时 12 毫秒');
  });

  it('detects the locale from browser languages', () => {
    expect(detectLocale(['zh-TW', 'en'])).toBe('zh-CN');
    expect(detectLocale(['en-GB'])).toBe('en');
    expect(detectLocale(['fr-FR', 'zh-CN'])).toBe('zh-CN');
    expect(detectLocale([])).toBe('en');
  });
});

describe('formatting', () => {
  it('formats numbers per locale', () => {
    expect(formatNumber(1234567, 'en')).toBe('1,234,567');
    expect(formatNumber(1234567, 'zh-CN')).toBe('1,234,567');
    expect(formatNumber(2.345, 'en', 1)).toBe('2.3');
  });

  it('formats scores as percentages', () => {
    expect(formatScore(0.873, 'en')).toBe('87%');
    expect(formatScore(0.05, 'zh-CN')).toBe('5%');
  });

  it('formats byte sizes', () => {
    expect(formatBytes(512, 'en')).toBe('512 byte');
    expect(formatBytes(3 * 1024 * 1024, 'en')).toBe('3 MB');
  });

  it('formats capture dates in each language', () => {
    expect(formatTakenAt('2024-05-01T09:30:00', 'en')).toContain('May 1, 2024');
    expect(formatTakenAt('2024:05:01 09:30:00', 'zh-CN')).toContain('2024年5月1日');
    expect(formatTakenAt('not a date', 'en')).toBe('not a date');
  });

  it('formats durations', () => {
    expect(formatDuration(42, 'en')).toBe('42 sec');
    expect(formatDuration(3900, 'en')).toBe('1 hr 5 min');
    expect(formatDuration(120, 'zh-CN')).toContain('2');
  });
});
