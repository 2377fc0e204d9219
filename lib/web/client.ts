/**
 * The browser half of islands: find every `<island-root>` the server rendered, load that
 * island's bundle and hydrate it with the props the server serialised. Bundled by `build.ts`
 * together with a table of the site's islands; never imported by server code.
 */
import { type ComponentType, h, hydrate } from "preact";

type IslandLoader = () => Promise<{ default: ComponentType<Record<string, unknown>> }>;

export function boot(loaders: Record<string, IslandLoader>): void {
  for (const root of document.querySelectorAll<HTMLElement>("island-root[data-island]")) {
    const name = root.dataset.island!;
    const load = loaders[name];
    if (!load) {
      console.error(`island "${name}" is not part of this build`);
      continue;
    }
    const props = JSON.parse(root.dataset.props ?? "{}");
    load().then(
      (module) => hydrate(h(module.default, props), root),
      (error) => console.error(`island "${name}" failed to load`, error),
    );
  }
}
