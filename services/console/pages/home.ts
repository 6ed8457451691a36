/** Namespaces and tasks: each task's aliases and the versions they point at, its latest version, its best eval_loss. */
import { PromptVersionOrderBy, type Task } from '../../gen/ptune/v1/registry_pb.js';
import { html, pathOf, type Html } from '../html.js';
import { page } from '../layout.js';
import type { SignedIn } from '../signed-in.js';
import { listAll, metricText } from './page-data.js';

/** The metric the tasks page ranks versions by (the coordinator's default selection metric; lower is better). */
export const BEST_METRIC = 'eval_loss';

export async function homePage(user: SignedIn): Promise<Html> {
  const namespace = user.caller.namespace === '*' ? '' : user.caller.namespace;
  const tasks = await listAll(
    (pageToken) => user.api.registry.listTasks({ namespace, pageSize: 1000, pageToken }),
    (r) => r.tasks,
  );
  const best = await Promise.all(tasks.map((task) => bestVersion(user, task)));
  const byNamespace = new Map<string, { task: Task; best: BestVersion | undefined }[]>();
  tasks.forEach((task, i) => {
    const ns = task.ref?.namespace ?? '';
    byNamespace.set(ns, [...(byNamespace.get(ns) ?? []), { task, best: best[i] }]);
  });
  if (byNamespace.size === 0 && namespace !== '') byNamespace.set(namespace, []);
  const sections = [...byNamespace].map(
    ([ns, rows]) =>
      html`<section class="namespace" id="${`ns-${ns}`}">
        <h2>Namespace ${ns}</h2>
        ${
          rows.length === 0
            ? html`<p>No tasks yet.</p>`
            : html`<table class="tasks">
                <thead>
                  <tr>
                    <th>task</th>
                    <th>description</th>
                    <th>aliases</th>
                    <th>latest</th>
                    <th>best ${BEST_METRIC}</th>
                  </tr>
                </thead>
                <tbody>
                  ${rows.map(({ task, best }) => taskRow(task, best))}
                </tbody>
              </table>`
        }
      </section>`,
  );
  return page(
    'Namespaces and tasks',
    user,
    html`<p class="summary">
        ${byNamespace.size} namespace${byNamespace.size === 1 ? '' : 's'}, ${tasks.length} task${tasks.length === 1 ? '' : 's'}.
      </p>
      ${sections}`,
  );
}

interface BestVersion {
  readonly version: number;
  readonly value: number;
}

async function bestVersion(user: SignedIn, task: Task): Promise<BestVersion | undefined> {
  if (task.latestVersion === 0) return undefined;
  const { versions } = await user.api.registry.listPromptVersions({
    task: task.ref,
    orderBy: PromptVersionOrderBy.METRIC,
    orderMetric: BEST_METRIC,
    pageSize: 1,
  });
  const value = versions[0]?.metrics[BEST_METRIC];
  return value === undefined ? undefined : { version: versions[0]!.version, value };
}

function taskRow(task: Task, best: BestVersion | undefined): Html {
  const ns = task.ref?.namespace ?? '';
  const name = task.ref?.name ?? '';
  const versionLink = (v: number): Html => html`<a href="${pathOf('tasks', ns, name, 'versions', v)}">v${v}</a>`;
  const aliases = Object.entries(task.aliases).sort(([a], [b]) => a.localeCompare(b));
  return html`<tr>
    <td class="name"><a href="${pathOf('tasks', ns, name)}">${name}</a></td>
    <td>${task.description}</td>
    <td>${aliases.length === 0 ? '—' : aliases.map(([alias, v]) => html`<span class="alias">${alias} → ${versionLink(v)}</span> `)}</td>
    <td>${task.latestVersion === 0 ? '—' : versionLink(task.latestVersion)}</td>
    <td>${best === undefined ? '—' : html`${metricText(best.value)} (${versionLink(best.version)})`}</td>
  </tr>`;
}
