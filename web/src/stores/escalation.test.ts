import { describe, expect, it } from 'vitest';
import { buildPutBody, ladderProblem, levelToDraft, minutesToSecs, parseEmails, secsToMinutes } from './escalation';

describe('minutes and seconds', () => {
  it('shows whole minutes as a number, other times as m:ss', () => {
    expect(secsToMinutes(60)).toBe('1');
    expect(secsToMinutes(900)).toBe('15');
    expect(secsToMinutes(604800)).toBe('10080');
    expect(secsToMinutes(1)).toBe('0:01');
    expect(secsToMinutes(90)).toBe('1:30');
    expect(secsToMinutes(3725)).toBe('62:05');
  });

  it('reads minutes, decimal minutes and m:ss', () => {
    expect(minutesToSecs('1')).toBe(60);
    expect(minutesToSecs(' 15 ')).toBe(900);
    expect(minutesToSecs('1.5')).toBe(90);
    expect(minutesToSecs('0,5')).toBe(30);
    expect(minutesToSecs('.25')).toBe(15);
    expect(minutesToSecs('1:30')).toBe(90);
    expect(minutesToSecs('0:01')).toBe(1);
    expect(minutesToSecs('0')).toBe(0);
  });

  it('round-trips what it shows', () => {
    for (const s of [1, 59, 60, 61, 90, 3600, 3601, 604800]) expect(minutesToSecs(secsToMinutes(s))).toBe(s);
  });

  it('refuses what is not minutes', () => {
    for (const t of ['', ' ', 'abc', '-1', '1:60', '1:2:3', '5m', '1e3']) expect(minutesToSecs(t)).toBeNull();
  });
});

describe('the notify list', () => {
  it('splits on commas, semicolons, spaces and new lines; lower-cases; keeps each once', () => {
    expect(parseEmails('a@x.test, B@x.test\nc@x.test;d@x.test  a@x.test\n\n')).toEqual(['a@x.test', 'b@x.test', 'c@x.test', 'd@x.test']);
    expect(parseEmails('lin@x.test，wang@x.test、chen@x.test')).toEqual(['lin@x.test', 'wang@x.test', 'chen@x.test']);
    expect(parseEmails('  \n ,')).toEqual([]);
  });

  it('edits a level as minutes and one e-mail a line', () => {
    expect(levelToDraft({ after_secs: 300, notify: ['a@x.test', 'b@x.test'] })).toEqual({ after: '5', notify: 'a@x.test\nb@x.test' });
  });
});

describe('the PUT body', () => {
  it('sends seconds and e-mail lists, in the order of the form', () => {
    expect(buildPutBody([
      { after: '1', notify: 'lin@x.test' },
      { after: '2:30', notify: 'wang@x.test, Chen@x.test' },
    ])).toEqual({ levels: [
      { after_secs: 60, notify: ['lin@x.test'] },
      { after_secs: 150, notify: ['wang@x.test', 'chen@x.test'] },
    ] });
    expect(buildPutBody([])).toEqual({ levels: [] });
  });

  it('leaves order and empty lists to the server, but not a time it cannot read', () => {
    expect(buildPutBody([{ after: '5', notify: '' }, { after: '1', notify: 'a@x.test' }])).toEqual({ levels: [
      { after_secs: 300, notify: [] }, { after_secs: 60, notify: ['a@x.test'] },
    ] });
    expect(buildPutBody([{ after: '5', notify: 'a@x.test' }, { after: 'soon', notify: 'a@x.test' }])).toEqual({ badMinutes: 2 });
  });
});

describe("the server's validation messages", () => {
  it('are read into a problem and its level', () => {
    expect(ladderProblem('levels: at most 10')).toEqual({ kind: 'tooMany' });
    expect(ladderProblem("levels[2].after_secs: must be later than level 1's (60 s)")).toEqual({ kind: 'order', level: 2 });
    expect(ladderProblem('levels[1].after_secs: between 1 and 604800')).toEqual({ kind: 'range', level: 1 });
    expect(ladderProblem('levels[3].notify: 1 to 50 people')).toEqual({ kind: 'count', level: 3 });
    expect(ladderProblem('levels[1].notify: not an e-mail address: "bob"')).toEqual({ kind: 'email', level: 1 });
    expect(ladderProblem('levels: invalid type')).toEqual({ kind: 'other', level: null });
  });
});
