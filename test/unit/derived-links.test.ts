import { describe, expect, it } from 'vitest';
import { type DerivedLink, fillDerivedLinks } from '../../core/emails/derived-links.ts';
import { renderNotice } from '../../core/emails/layout.ts';

const end = '{{link:end:AAAAAAAAAAAAAAAAAAAAAA}}';
const urlOf = (link: DerivedLink) =>
  link.kind === 'end' ? `https://x.example/a&b/end/${link.delegationId}/k$&y` : 'https://x.example/amendments/t';

describe('fillDerivedLinks', () => {
  it('puts the URL in place of each listed placeholder, escaped in the HTML part, taken literally', () => {
    const body = renderNotice('Subject', ['Hello.'], undefined, { endUrl: end });
    expect(body.html).toContain(`href="${end}"`);
    const filled = fillDerivedLinks(body, { [end]: { kind: 'end', delegationId: 'dlg_1' } }, urlOf);
    expect(filled.text).toContain('End this delegation: https://x.example/a&b/end/dlg_1/k$&y');
    expect(filled.html).toContain('href="https://x.example/a&amp;b/end/dlg_1/k$&amp;y"');
    expect(filled.subject).toBe('Subject');
  });

  it('leaves alone anything not listed in the links, however much it looks like a placeholder', () => {
    const lookalike = '{{link:end:BBBBBBBBBBBBBBBBBBBBBB}}';
    const body = renderNotice('Subject', [`A partner named ${lookalike}.`], undefined, { endUrl: end });
    const filled = fillDerivedLinks(body, { [end]: { kind: 'end', delegationId: 'dlg_1' } }, urlOf);
    expect(filled.text).toContain(`A partner named ${lookalike}.`);
    expect(filled.html).toContain(`A partner named ${lookalike}.`);
    expect(fillDerivedLinks(body, {}, urlOf)).toEqual(body);
  });
});
