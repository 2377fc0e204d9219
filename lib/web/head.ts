/**
 * `<Head>`: what a page, layout or `_app` wants in the document's `<head>` — its title, its
 * description. It renders nothing where it stands; its children are collected during the render
 * and written before `</head>`. Elements that can appear once (`<title>`, a `<meta>` with a given
 * `name` or `property`, `<link rel="canonical">`) are deduplicated and the last one rendered wins,
 * so a page's title replaces the default `_app` declares.
 *
 * Rendering is synchronous, so the elements of one render are collected in a module-level slot
 * that `collectHead` sets for exactly the duration of that render.
 */
import { type ComponentChildren, Fragment, h, toChildArray, type VNode } from "preact";
import { renderToString } from "preact-render-to-string";

let collecting: VNode[] | null = null;

export function Head(props: { children?: ComponentChildren }): null {
  for (const child of toChildArray(props.children)) {
    if (typeof child === "object") collecting?.push(child);
  }
  return null;
}

/** Run a synchronous render and return the `<head>` markup its `<Head>` elements asked for. */
export function collectHead<T>(render: () => T): { result: T; head: string } {
  const collected: VNode[] = [];
  const previous = collecting;
  collecting = collected;
  try {
    const result = render();
    return { result, head: renderToString(h(Fragment, null, deduplicated(collected))) };
  } finally {
    collecting = previous;
  }
}

function deduplicated(elements: VNode[]): VNode[] {
  const byKey = new Map<string, VNode>();
  const unkeyed: VNode[] = [];
  for (const element of elements) {
    const key = uniqueKey(element);
    if (key === null) unkeyed.push(element);
    else {
      byKey.delete(key);
      byKey.set(key, element);
    }
  }
  return [...byKey.values(), ...unkeyed];
}

function uniqueKey(element: VNode): string | null {
  const props = element.props as Record<string, unknown>;
  if (element.key != null) return `key:${element.key}`;
  switch (element.type) {
    case "title":
      return "title";
    case "meta":
      if (props.name) return `meta:name:${props.name}`;
      if (props.property) return `meta:property:${props.property}`;
      return props.charset !== undefined ? "meta:charset" : null;
    case "link":
      return props.rel === "canonical" ? "link:canonical" : null;
    default:
      return null;
  }
}
