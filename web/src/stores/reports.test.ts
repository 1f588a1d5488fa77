import { describe, expect, it } from 'vitest';
import type { Report, ReportDetail, ReportList } from '../api/types';
import { isFinished, mergeList, mergeReport, progressFraction, progressList, progressReport, reportLanguage, upsertReport } from './reports';

const report = (id: string, extra: Partial<Report> = {}): Report => ({
  id, room_id: 'r', requested_by: 'a@x', language: 'zh-TW', ai: false, status: 'pending', reason: null,
  created_at: `2026-01-01T00:00:0${id.length}Z`, finished_at: null, file_name: null, size: null, sha256: null,
  content_url: null, ...extra,
});
const frame = (status: string, reason?: string) => ({ room_id: 'r', report_id: 'a', status, reason });

describe('report progress', () => {
  it('moves a report forward through its stages, never back', () => {
    let r = report('a');
    for (const s of ['collecting', 'writing', 'assembling']) {
      r = progressReport(r, frame(s));
      expect(r.status).toBe(s);
    }
    expect(progressReport(r, frame('collecting'))).toBe(r);
    expect(progressReport(r, frame('no-such-stage'))).toBe(r);
    expect(progressReport(r, { ...frame('completed'), report_id: 'other' })).toBe(r);
    r = progressReport(r, frame('completed'));
    expect(r.status).toBe('completed');
    // Finished is final.
    expect(progressReport(r, frame('failed', 'late'))).toBe(r);
  });

  it('keeps the reason of a failure', () => {
    const r = progressReport(report('a', { status: 'writing' }), frame('failed', 'the model did not answer'));
    expect(r).toMatchObject({ status: 'failed', reason: 'the model did not answer' });
    expect(isFinished(r.status)).toBe(true);
  });

  it('applies frames to the list, or says the list lacks the report', () => {
    const list: ReportList = { reports: [report('a'), report('bb', { status: 'completed' })], ai_available: false };
    const next = progressList(list, frame('writing'))!;
    expect(next.reports.map((r) => r.status)).toEqual(['writing', 'completed']);
    expect(progressList(list, { ...frame('writing'), report_id: 'zz' })).toBeNull();
  });

  it('merges a polled answer without going back a stage', () => {
    const ahead = report('a', { status: 'assembling' });
    const polled: ReportDetail = { ...report('a', { status: 'collecting' }), content: null };
    expect(mergeReport<ReportDetail>({ ...ahead, content: null }, polled).status).toBe('assembling');
    const done: ReportDetail = { ...report('a', { status: 'completed', file_name: 'x.docx' }), content: null };
    expect(mergeReport<ReportDetail>({ ...ahead, content: null }, done)).toBe(done);
    expect(mergeReport(undefined, polled)).toBe(polled);
    const list = mergeList({ reports: [ahead], ai_available: false }, { reports: [report('a', { status: 'writing' }), report('bb')], ai_available: true });
    expect(list.reports.map((r) => r.status)).toEqual(['assembling', 'pending']);
    expect(list.ai_available).toBe(true);
  });

  it('upserts newest first', () => {
    let list: ReportList = { reports: [report('a', { status: 'completed' })], ai_available: false };
    list = upsertReport(list, report('bbb'));
    expect(list.reports.map((r) => r.id)).toEqual(['bbb', 'a']);
    list = upsertReport(list, report('bbb', { status: 'writing' }));
    expect(list.reports).toHaveLength(2);
    expect(list.reports[0].status).toBe('writing');
  });

  it('maps the UI language and shows how far a report is', () => {
    expect(reportLanguage('zh-Hant')).toBe('zh-TW');
    expect(reportLanguage('en')).toBe('en');
    const fractions = (['pending', 'collecting', 'writing', 'assembling', 'completed'] as const).map(progressFraction);
    expect([...fractions].sort((x, y) => x - y)).toEqual(fractions);
    expect(fractions[0]).toBeGreaterThan(0);
    expect(progressFraction('failed')).toBe(1);
  });
});
