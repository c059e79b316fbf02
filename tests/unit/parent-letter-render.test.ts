import { describe, expect, it } from 'vitest';
import { parentLetter } from '../../src/domain/parent-letter.js';
import { letterHtml, letterText } from '../../src/features/parent-notices/letter.js';

const letter = parentLetter({
  language: 'da',
  municipality: 'Aarhus & Omegn',
  unit: '"Solsikken"',
  childGivenName: '<img src=x onerror=alert(1)>',
  assessedOn: '2026-11-20',
  ruler: 'TOPI',
  zone: 'red',
  previousZone: 'yellow',
  reason: 'zone_change',
  steps: [{ title: 'Møde med forældrene', dueOn: '2026-11-27' }],
  retentionYears: 5,
  today: '2026-11-22',
});

describe('parent letter rendering', () => {
  it('escapes everything it is given in HTML', () => {
    const html = letterHtml(letter);
    expect(html).not.toContain('<img');
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(html).toContain('Aarhus &amp; Omegn');
    expect(html).toContain('&quot;Solsikken&quot;');
    expect(html).toContain('<li>Møde med forældrene (senest 27. november 2026)</li>');
    expect(html.match(/<h2>/g)).toHaveLength(6);
  });

  it('writes plain text with underlined headings and dashes for the steps', () => {
    const text = letterText(letter);
    expect(text.split('\n').slice(0, 2)).toEqual([letter.title, '='.repeat(letter.title.length)]);
    expect(text).toContain(
      'Hvad der sker nu\n----------------\n- Møde med forældrene (senest 27. november 2026)',
    );
    expect(text).not.toMatch(/\n{3,}/);
    expect(text.endsWith('Venlig hilsen\n"Solsikken"\n')).toBe(true);
  });
});
