import { createRequire } from 'node:module';
import PDFDocument from 'pdfkit';
import type { Letter } from '../../domain/parent-letter.js';

/*
 * The parent letter (domain/parent-letter.ts) as plain text, HTML and PDF. The PDF embeds DejaVu
 * Sans (the npm package dejavu-fonts-ttf; pdfkit embeds only the glyphs used): pdfkit's standard
 * Helvetica knows WinAnsi only, no Cyrillic. A4, as one buffer (a letter is small).
 */
const require = createRequire(import.meta.url);
const FONTS = {
  regular: require.resolve('dejavu-fonts-ttf/ttf/DejaVuSans.ttf'),
  bold: require.resolve('dejavu-fonts-ttf/ttf/DejaVuSans-Bold.ttf'),
};

export const letterFormats = ['text', 'html', 'pdf'] as const;
export type LetterFormat = (typeof letterFormats)[number];

export const letterContentTypes: Record<LetterFormat, string> = {
  text: 'text/plain; charset=utf-8',
  html: 'text/html; charset=utf-8',
  pdf: 'application/pdf',
};

export function letterText(letter: Letter): string {
  const lines = [letter.title, '='.repeat(letter.title.length), letter.from, '', letter.greeting];
  for (const section of letter.sections) {
    lines.push('', section.heading, '-'.repeat(section.heading.length));
    for (const paragraph of section.paragraphs) lines.push(paragraph, '');
    for (const bullet of section.bullets) lines.push(`- ${bullet}`);
    if (section.bullets.length > 0) lines.push('');
  }
  lines.push('', letter.closing, '');
  return lines.join('\n').replace(/\n{3,}/g, '\n\n');
}

const escapeHtml = (text: string) =>
  text
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;');

export function letterHtml(letter: Letter): string {
  const sections = letter.sections
    .map(
      (s) =>
        `<section><h2>${escapeHtml(s.heading)}</h2>` +
        s.paragraphs.map((p) => `<p>${escapeHtml(p)}</p>`).join('') +
        (s.bullets.length > 0
          ? `<ul>${s.bullets.map((b) => `<li>${escapeHtml(b)}</li>`).join('')}</ul>`
          : '') +
        '</section>',
    )
    .join('\n');
  return `<!doctype html>
<html lang="${letter.language}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(letter.title)}</title>
<style>
body { font: 16px/1.5 system-ui, sans-serif; color: #1a1a1a; margin: 0; padding: 1.5rem; }
main { max-width: 40rem; margin: 0 auto; }
h1 { font-size: 1.6rem; margin: 0 0 .25rem; }
h2 { font-size: 1.15rem; margin: 1.5rem 0 .25rem; }
.from { color: #444; margin: 0 0 1.5rem; }
</style>
</head>
<body>
<main>
<h1>${escapeHtml(letter.title)}</h1>
<p class="from">${escapeHtml(letter.from)}</p>
<p>${escapeHtml(letter.greeting)}</p>
${sections}
<p>${escapeHtml(letter.closing).replace('\n', '<br>')}</p>
</main>
</body>
</html>
`;
}

export function letterPdf(letter: Letter): Promise<Buffer> {
  const doc = new PDFDocument({
    size: 'A4',
    margin: 64,
    lang: letter.language,
    info: { Title: letter.title, Author: letter.from },
  });
  const chunks: Buffer[] = [];
  const done = new Promise<Buffer>((resolve, reject) => {
    doc.on('data', (chunk: Buffer) => chunks.push(chunk));
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    doc.on('error', reject);
  });
  doc.registerFont('regular', FONTS.regular);
  doc.registerFont('bold', FONTS.bold);
  doc.font('bold').fontSize(18).text(letter.title);
  doc.font('regular').fontSize(10).fillColor('#444444').text(letter.from).moveDown();
  doc.fillColor('#000000').fontSize(11).text(letter.greeting).moveDown(0.5);
  for (const section of letter.sections) {
    doc.moveDown(0.5).font('bold').fontSize(12).text(section.heading);
    doc.font('regular').fontSize(11);
    for (const paragraph of section.paragraphs) doc.text(paragraph).moveDown(0.4);
    if (section.bullets.length > 0) doc.list(section.bullets, { bulletRadius: 2 }).moveDown(0.4);
  }
  doc.moveDown().text(letter.closing);
  doc.end();
  return done;
}
