import type { Child } from 'hono/jsx';
import { FAVICON_PATH } from './favicon.ts';

const css = `
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { font: 16px/1.5 system-ui, sans-serif; margin: 0; background: #f6f7f9; color: #1b1f24; }
main { max-width: 60rem; margin: 2rem auto; background: #fff; padding: 2rem; border-radius: 8px; box-shadow: 0 1px 3px rgba(0,0,0,.1); }
h1 { font-size: 1.5rem; margin-top: 0; }
h2 { font-size: 1.15rem; margin-top: 2rem; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: .4rem 1rem; }
dt { font-weight: 600; }
dd { margin: 0; }
form { margin: 1rem 0; }
fieldset { border: 1px solid #d0d7de; border-radius: 6px; padding: 1rem; margin: 1rem 0; }
legend { font-weight: 600; padding: 0 .3rem; }
label { display: block; font-weight: 600; margin: .6rem 0 .2rem; }
.choice label { display: inline; font-weight: normal; margin-left: .4rem; }
input[type=text], input[type=email], input[type=password] { width: 100%; padding: .5rem; border: 1px solid #8c959f; border-radius: 4px; font: inherit; }
button { font: inherit; padding: .55rem 1.1rem; border-radius: 4px; border: 1px solid #1f6feb; background: #1f6feb; color: #fff; cursor: pointer; margin-top: .8rem; }
button.secondary { background: #fff; color: #1f6feb; }
button.danger { background: #cf222e; border-color: #cf222e; }
.notice { padding: .8rem 1rem; border-radius: 6px; background: #ddf4ff; border: 1px solid #54aeff; }
.error { padding: .8rem 1rem; border-radius: 6px; background: #ffebe9; border: 1px solid #ff8182; }
.ok { padding: .8rem 1rem; border-radius: 6px; background: #dafbe1; border: 1px solid #4ac26b; }
table { width: 100%; border-collapse: collapse; margin: 1rem 0; }
th, td { text-align: left; padding: .4rem .5rem; border-bottom: 1px solid #d0d7de; vertical-align: top; }
small, .muted { color: #57606a; }
td small { word-break: break-all; }
td { white-space: normal; }
td.date { white-space: nowrap; }
main.wide { max-width: 80rem; }
form.filters { display: flex; gap: .8rem; flex-wrap: wrap; align-items: end; }
form.filters label { margin: 0; font-size: .9rem; }
form.filters input, form.filters select { display: block; font: inherit; padding: .3rem; border: 1px solid #8c959f; border-radius: 4px; }
.actions { display: flex; gap: 1rem; flex-wrap: wrap; }
.state { white-space: nowrap; font-weight: 600; }
.state-failed, .state-rejected { color: #cf222e; }
main { overflow-wrap: break-word; }
@media (max-width: 40rem) {
  main, main.wide { margin: 0; padding: 1rem .8rem; border-radius: 0; box-shadow: none; }
  table { display: block; overflow-x: auto; }
  dl { grid-template-columns: 1fr; } dd { margin-bottom: .4rem; }
  form.filters { flex-direction: column; align-items: stretch; }
  form.filters label { min-width: 0; }
  form.filters input, form.filters select { width: 100%; }
  select, input { max-width: 100%; }
}
`;

/**
 * The frame of every page. Everything works with plain forms and links; the only scripts
 * are this site's files named in `scripts` (passkeys need one: WebAuthn has no form), on
 * pages served with `scriptedPageHeaders`. Text is escaped by hono/jsx; nothing here
 * renders raw HTML from data.
 */
export function Layout(props: {
  title: string;
  children: Child;
  refreshSeconds?: number;
  scripts?: readonly string[];
  /** Go on to this address at once (a refresh: scriptless, and not a form's redirect). */
  goTo?: string;
  /** A page of wide tables (a trail): more room. */
  wide?: boolean;
}) {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        {props.refreshSeconds ? <meta http-equiv="refresh" content={String(props.refreshSeconds)} /> : null}
        {props.goTo ? <meta http-equiv="refresh" content={`0;url=${props.goTo}`} /> : null}
        <title>{`${props.title} · Mandate`}</title>
        <link rel="icon" href={FAVICON_PATH} type="image/svg+xml" />
        {/* A constant of this file, not data: safe to insert as is. */}
        <style dangerouslySetInnerHTML={{ __html: css }} />
        {props.scripts?.map((src) => (
          <script src={src} defer />
        ))}
      </head>
      <body>
        <main class={props.wide ? 'wide' : undefined}>{props.children}</main>
      </body>
    </html>
  );
}

/** A full page for an error or a dead end: a heading and a sentence. */
export function MessagePage(props: {
  title: string;
  message: string;
  kind?: 'error' | 'notice' | 'ok';
  children?: Child;
}) {
  return (
    <Layout title={props.title}>
      <h1>{props.title}</h1>
      <p class={props.kind ?? 'notice'}>{props.message}</p>
      {props.children}
    </Layout>
  );
}
