import type { Child } from 'hono/jsx';
import { seesClientOrganizations, seesPartnerData } from '../../../../core/partner-permissions.ts';
import type { PartnerPrincipal } from '../../../../services/shared/principals.ts';

const css = `
:root { color-scheme: light; --fg:#1b1f24; --muted:#57606a; --line:#d0d7de; --blue:#1f6feb; }
* { box-sizing: border-box; }
body { font: 15px/1.45 system-ui, sans-serif; margin: 0; background: #f6f7f9; color: var(--fg); }
header.top { background: #24292f; color: #fff; padding: .6rem 1.5rem; display: flex; gap: 1.2rem; align-items: center; flex-wrap: wrap; }
header.top a { color: #fff; text-decoration: none; padding: .2rem .1rem; }
header.top a[aria-current=page] { border-bottom: 2px solid #fff; }
header.top .brand { font-weight: 700; margin-right: 1rem; }
header.top form { margin: 0 0 0 auto; display: flex; gap: .6rem; align-items: center; }
header.top button { margin: 0; padding: .25rem .7rem; background: transparent; border-color: #8c959f; }
main { max-width: 78rem; margin: 1.2rem auto; padding: 0 1.5rem; overflow-wrap: break-word; }
section.card { background: #fff; padding: 1.2rem 1.4rem; border-radius: 8px; box-shadow: 0 1px 3px rgba(0,0,0,.1); margin-bottom: 1.2rem; }
h1 { font-size: 1.4rem; margin: .4rem 0 1rem; }
h2 { font-size: 1.1rem; margin: 0 0 .8rem; }
a { color: var(--blue); }
table { width: 100%; border-collapse: collapse; }
th, td { text-align: left; padding: .35rem .5rem; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-weight: 600; font-size: .85rem; color: var(--muted); }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
td.date { white-space: nowrap; }
td.reply { font-family: ui-monospace, monospace; font-size: .85rem; word-break: break-word; max-width: 32rem; }
.muted { color: var(--muted); }
.counts { display: flex; flex-wrap: wrap; gap: .6rem; margin: 0; padding: 0; list-style: none; }
.counts li { border: 1px solid var(--line); border-radius: 6px; padding: .4rem .8rem; min-width: 7rem; }
.counts li a { text-decoration: none; color: inherit; display: block; }
.counts .n { font-size: 1.3rem; font-weight: 700; display: block; font-variant-numeric: tabular-nums; }
.state { display: inline-block; padding: 0 .45rem; border-radius: 1rem; font-size: .8rem; border: 1px solid var(--line); }
.state-failed, .state-rejected { background: #ffebe9; border-color: #ff8182; }
.state-active, .state-succeeded, .state-offered { background: #dafbe1; border-color: #4ac26b; }
.state-invited, .state-queued, .state-running, .state-accepting { background: #ddf4ff; border-color: #54aeff; }
.bar { display: flex; height: .8rem; border-radius: .4rem; overflow: hidden; background: #eaeef2; min-width: 8rem; }
.bar span { display: block; height: 100%; }
.seg-done { background: #2da44e; } .seg-failed { background: #cf222e; } .seg-waiting { background: #eaeef2; } .seg-other { background: #8c959f; }
.notice, .error, .ok { padding: .6rem .9rem; border-radius: 6px; margin: 0 0 1rem; }
.notice { background: #ddf4ff; border: 1px solid #54aeff; }
.error { background: #ffebe9; border: 1px solid #ff8182; }
.ok { background: #dafbe1; border: 1px solid #4ac26b; }
form.inline { display: inline; margin: 0; }
button { font: inherit; padding: .35rem .9rem; border-radius: 4px; border: 1px solid var(--blue); background: var(--blue); color: #fff; cursor: pointer; }
button.secondary { background: #fff; color: var(--blue); }
.actions { display: flex; gap: .6rem; flex-wrap: wrap; align-items: center; margin: .8rem 0; }
.actions a.button { border: 1px solid var(--blue); border-radius: 4px; padding: .35rem .9rem; text-decoration: none; }
form.filters { display: flex; gap: .8rem; flex-wrap: wrap; align-items: end; margin-bottom: 1rem; }
form.filters label { display: flex; flex-direction: column; font-size: .85rem; font-weight: 600; }
fieldset.choices label { display: block; margin: .35rem 0; font-weight: 400; }
fieldset.choices input[type=checkbox] { margin-right: .4rem; }
select, input { font: inherit; padding: .3rem; border: 1px solid #8c959f; border-radius: 4px; max-width: 100%; }
.grid2 { display: grid; grid-template-columns: repeat(auto-fit, minmax(min(28rem, 100%), 1fr)); gap: 1.2rem; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: .3rem 1rem; margin: 0; }
dl.facts dt { font-weight: 600; }
dl.facts dd { margin: 0; }
figure.chart { margin: 0; display: grid; grid-template-columns: max-content 1fr; grid-template-rows: 8rem auto; gap: 0 .4rem; }
figure.chart svg { width: 100%; height: 8rem; border-bottom: 1px solid #8c959f; }
figure.chart .b { fill: #1f6feb; }
.chart-y { display: flex; flex-direction: column; justify-content: space-between; text-align: right; font-size: .75rem; color: var(--muted); }
.chart-x { grid-column: 2; position: relative; height: 1.2rem; font-size: .75rem; color: var(--muted); overflow: hidden; }
.chart-x span { position: absolute; top: .1rem; white-space: nowrap; }
.scroll { overflow-x: auto; }
form.stack { display: flex; flex-direction: column; gap: .5rem; max-width: 28rem; margin-top: 1rem; }
form.stack label { display: flex; flex-direction: column; font-size: .9rem; font-weight: 600; gap: .2rem; }
form.stack button { align-self: flex-start; }
h3 { font-size: 1rem; margin: 0; }
button.danger { background: #cf222e; border-color: #cf222e; }
ul.hits { margin: 0; padding-left: 1.2rem; } ul.hits li { margin: .3rem 0; }
p.words { font-size: 1.05rem; margin: 0 0 1rem; }
header.top nav { display: flex; gap: 1rem; flex-wrap: wrap; }
header.top .menu-toggle { display: none; }
@media (max-width: 48rem) {
  header.top { padding: .5rem .9rem; gap: .6rem; }
  header.top .brand { margin-right: auto; }
  header.top input.menu-toggle { display: block; position: absolute; opacity: 0; width: 1px; height: 1px; }
  header.top input.menu-toggle:focus-visible + label { outline: 2px solid #fff; }
  header.top label.menu-toggle { display: block; cursor: pointer; border: 1px solid #8c959f; border-radius: 4px; padding: .15rem .6rem; }
  header.top nav { order: 3; width: 100%; flex-direction: column; gap: .3rem; padding: .2rem 0 .4rem; }
  header.top input.menu-toggle:not(:checked) ~ nav { display: none; }
  header.top form { margin: 0; }
  header.top form a { display: none; }
  main { padding: 0 .7rem; margin-top: .8rem; }
  section.card { padding: .9rem .8rem; }
  table { display: block; overflow-x: auto; }
  td.reply { max-width: none; }
  .grid2 { grid-template-columns: 1fr; }
  dl.facts { grid-template-columns: 1fr; } dl.facts dd { margin-bottom: .4rem; }
  form.filters { flex-direction: column; align-items: stretch; }
  form.filters label { min-width: 0; }
  form.filters input, form.filters select { width: 100%; }
}
.live-status { font-size: .8rem; }
a.attention { color: #cf222e; font-weight: 700; }
`;

const nav = [
  { href: '/dashboard', label: 'Overview' },
  { href: '/dashboard/search', label: 'Search', needsPartnerData: true },
  { href: '/dashboard/offers', label: 'Offers', needsPartnerData: true },
  { href: '/dashboard/campaigns', label: 'Campaigns', needsPartnerData: true },
  { href: '/dashboard/delegations', label: 'Delegations', needsPartnerData: true },
  { href: '/dashboard/operations', label: 'Operations', needsClientAccess: true },
  { href: '/dashboard/staff', label: 'Staff', ownersOnly: true },
  { href: '/dashboard/security', label: 'Security', ownersOnly: true },
  { href: '/dashboard/audit', label: 'Audit trail', ownersOnly: true },
  { href: '/dashboard/tokens', label: 'API tokens' },
  { href: '/dashboard/webhooks', label: 'Webhooks', ownersOnly: true },
  { href: '/dashboard/single-sign-on', label: 'Single sign-on', ownersOnly: true },
  { href: '/admin/queues', label: 'Job board', opensJobBoard: true },
  { href: '/docs', label: 'API reference' },
];

export interface DashboardLayoutProps {
  title: string;
  principal: PartnerPrincipal;
  csrf: string;
  /** The nav entry to mark as current. */
  section: string;
  /** Refresh the `data-live` parts of the page every few seconds (with JavaScript). */
  live?: boolean;
  children: Child;
}

/**
 * The dashboard's frame: a nav bar, the signed-in user and a sign-out button. The pages
 * are plain HTML and work without JavaScript; with it, `live.js` refreshes the parts
 * marked `data-live` in place while the page is open.
 */
export function DashboardLayout(props: DashboardLayoutProps) {
  const { principal } = props;
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>{`${props.title} · Mandate`}</title>
        {/* A constant of this file, not data. */}
        <style dangerouslySetInnerHTML={{ __html: css }} />
        {props.live ? <script src="/dashboard/assets/live.js" defer /> : null}
      </head>
      <body>
        <header class="top">
          <span class="brand">Mandate</span>
          {/* A menu to open on a phone, without script: the box's state shows or hides the nav (CSS); on a wide screen both are hidden and the nav always shown. */}
          <input type="checkbox" id="menu-toggle" class="menu-toggle" aria-label="Show the menu" />
          <label for="menu-toggle" class="menu-toggle">
            Menu
          </label>
          <nav aria-label="Dashboard">
            {nav
              .filter(
                (n) =>
                  (!n.ownersOnly || principal.isOwner) &&
                  (!n.opensJobBoard || principal.opensJobBoard === true) &&
                  (!n.needsPartnerData || seesPartnerData(principal)) &&
                  (!n.needsClientAccess || seesClientOrganizations(principal)),
              )
              .map((n) => (
                <a href={n.href} aria-current={n.href === props.section ? 'page' : undefined}>
                  {n.label}
                </a>
              ))}
          </nav>
          <form method="post" action="/sign-out">
            <a href="/account" title="Your account: password, two-factor sign-in, where you are signed in">
              {principal.email}
            </a>
            <input type="hidden" name="csrf" value={props.csrf} />
            <input type="hidden" name="next" value="/sign-in" />
            <button type="submit">Sign out</button>
          </form>
        </header>
        <main>
          <h1>{props.title}</h1>
          {props.live ? (
            <p class="muted live-status" data-live-status>
              This page shows the state when it was loaded; with JavaScript on it refreshes every few seconds.
            </p>
          ) : null}
          {props.children}
        </main>
      </body>
    </html>
  );
}

/** A state as a coloured pill. */
export function StatePill(props: { state: string }) {
  return <span class={`state state-${props.state}`}>{props.state}</span>;
}

/**
 * The script behind `live`: every 3 seconds while the tab is visible, fetch this same
 * URL and swap each `[data-live]` element for its new version — one request at a time,
 * stopping when the session has ended. Its requests say they are the page's own
 * (X-Mandate-Live), so an open tab does not keep an idle session alive. No framework, no build.
 */
export const liveScript = `(() => {
  const status = document.querySelector('[data-live-status]');
  let busy = false;
  let timer;
  async function refresh() {
    if (document.hidden || busy) return;
    busy = true;
    try {
      const response = await fetch(location.href, { credentials: 'same-origin', headers: { 'X-Mandate-Live': '1' } });
      if (response.redirected || !response.ok) {
        clearInterval(timer);
        if (status) status.textContent = 'Stopped refreshing (' + (response.redirected ? 'signed out' : response.status) + '): reload the page.';
        return;
      }
      const doc = new DOMParser().parseFromString(await response.text(), 'text/html');
      for (const el of document.querySelectorAll('[data-live]')) {
        const next = doc.querySelector('[data-live="' + el.getAttribute('data-live') + '"]');
        if (next) el.replaceWith(next);
      }
      if (status) status.textContent = 'Updated ' + new Date().toLocaleTimeString();
    } catch (error) {
      if (status) status.textContent = 'Could not refresh (' + error.message + ')';
    } finally {
      busy = false;
    }
  }
  timer = setInterval(refresh, 3000);
})();
`;

/** Counts by state as a row of boxes, each a link to the list of that state. */
export function CountsByState<S extends string>(props: {
  states: readonly S[];
  counts: Record<S, number>;
  href: (state: S) => string;
  label: string;
  current?: S | undefined;
}) {
  return (
    <ul class="counts" aria-label={props.label}>
      {props.states.map((s) => (
        <li data-state={s}>
          <a href={props.href(s)} aria-current={props.current === s ? 'page' : undefined}>
            <span class="n">{props.counts[s]}</span>
            {s}
          </a>
        </li>
      ))}
    </ul>
  );
}

/** The operation states in the order an operator reads them. */
export const operationStatesShown = ['queued', 'running', 'failed', 'rejected', 'succeeded'] as const;
