/** The page shell every console page shares: head (own stylesheet and script only), navigation, sign-out. */
import { html, type Html } from './html.js';
import type { Caller } from './user-api.js';

export interface Viewer {
  readonly caller: Caller;
  readonly csrf: string;
}

export function page(title: string, viewer: Viewer | undefined, body: Html): Html {
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>${title} · ptune console</title>
        <link rel="stylesheet" href="/assets/console.css" />
        <script src="/assets/console.js" defer></script>
      </head>
      <body>
        <header>
          <a class="brand" href="/">ptune console</a>
          ${
            viewer &&
            html`<nav><a href="/">Tasks</a><a href="/jobs">Jobs</a><a href="/models">Base models</a></nav>
              <form class="sign-out" method="post" action="/sign-out">
                <input type="hidden" name="csrf" value="${viewer.csrf}" /> <span class="who">${whoText(viewer.caller)}</span>
                <button type="submit">Sign out</button>
              </form>`
          }
        </header>
        <main>
          <h1>${title}</h1>
          ${body}
        </main>
      </body>
    </html> `;
}

export function whoText(caller: Caller): string {
  if (caller.actor === 'local') return 'no authentication (local server)';
  return `token ${caller.actor}: ${caller.role} of ${caller.namespace === '*' ? 'every namespace' : caller.namespace}`;
}

/** A short "time ago"-free timestamp, UTC, to the second. */
export function timeText(date: Date | undefined): string {
  return date === undefined ? '' : date.toISOString().replace('T', ' ').slice(0, 19) + ' UTC';
}
