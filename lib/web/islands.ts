/**
 * Islands on the server. A component registered from `islands/` is, wherever a page uses it,
 * rendered inside `<island-root data-island="Name" data-props="{json}">` so the browser runtime
 * (`client.ts`) can hydrate it with the same props. An island used inside another island is part
 * of its parent's bundle and is not marked again.
 *
 * Rendering is synchronous, so the islands used by one render are collected in a module-level
 * slot that `collectIslands` sets for exactly the duration of that render.
 */
import { type ComponentType, createContext, h, options, type VNode } from "preact";
import { useContext } from "preact/hooks";

type AnyComponent = ComponentType<Record<string, unknown>>;

const InsideIsland = createContext(false);
const boundaries = new Map<unknown, AnyComponent>();
let rawCreation = false;
let usedInCurrentRender: Set<string> | null = null;

export class IslandPropsError extends Error {
  override name = "IslandPropsError";
}

/** Make `component` an island called `name` for every render from now on. */
export function registerIsland(name: string, component: AnyComponent): void {
  if (boundaries.has(component)) return;
  const boundary = (props: Record<string, unknown>) => {
    const inner = createRaw(component, props);
    if (useContext(InsideIsland)) return inner;
    const json = serialiseIslandProps(name, props);
    usedInCurrentRender?.add(name);
    return h(
      "island-root",
      { "data-island": name, "data-props": json },
      h(InsideIsland.Provider, { value: true }, inner),
    );
  };
  boundary.displayName = `Island(${name})`;
  boundaries.set(component, boundary);
}

/** Run a synchronous render and report which islands it placed on the page. */
export function collectIslands<T>(render: () => T): { result: T; islands: Set<string> } {
  const islands = new Set<string>();
  const previous = usedInCurrentRender;
  usedInCurrentRender = islands;
  try {
    return { result: render(), islands };
  } finally {
    usedInCurrentRender = previous;
  }
}

function createRaw(component: AnyComponent, props: Record<string, unknown>): VNode {
  rawCreation = true;
  try {
    return h(component, props);
  } finally {
    rawCreation = false;
  }
}

const previousVnodeHook = options.vnode;
options.vnode = (vnode) => {
  if (!rawCreation) {
    const boundary = boundaries.get(vnode.type);
    if (boundary) vnode.type = boundary as typeof vnode.type;
  }
  previousVnodeHook?.(vnode);
};

/**
 * Island props travel to the browser as JSON, so only JSON data is allowed. Anything else (a
 * function, a Date, a class instance, a VNode passed as children…) is a render-time error that
 * names the island and the prop, instead of a page that silently hydrates with different props.
 */
export function serialiseIslandProps(name: string, props: Record<string, unknown>): string {
  const seen = new Set<object>();
  const check = (value: unknown, path: string): void => {
    const problem = describeUnserialisable(value);
    if (problem) {
      throw new IslandPropsError(
        `island "${name}": prop "${path}" is ${problem}, which cannot be sent to the browser; ` +
          `island props must be JSON data (strings, finite numbers, booleans, null, arrays, ` +
          `plain objects)`,
      );
    }
    if (value === null || typeof value !== "object") return;
    if (seen.has(value)) {
      throw new IslandPropsError(`island "${name}": prop "${path}" refers back to itself`);
    }
    seen.add(value);
    if (Array.isArray(value)) value.forEach((item, i) => check(item, `${path}[${i}]`));
    else checkFields(value as Record<string, unknown>, `${path}.`);
    seen.delete(value);
  };
  // An undefined field is simply absent after the trip, as it is for an optional prop.
  const checkFields = (fields: Record<string, unknown>, prefix: string) => {
    for (const [key, item] of Object.entries(fields)) {
      if (item !== undefined) check(item, prefix + key);
    }
  };
  checkFields(props, "");
  return JSON.stringify(props);
}

function describeUnserialisable(value: unknown): string | null {
  switch (typeof value) {
    case "string":
    case "boolean":
      return null;
    case "number":
      return Number.isFinite(value) ? null : `the number ${value}`;
    case "undefined":
      return "undefined";
    case "function":
      return "a function";
    case "bigint":
      return "a bigint";
    case "symbol":
      return "a symbol";
  }
  if (value === null || Array.isArray(value)) return null;
  const proto = Object.getPrototypeOf(value);
  if (proto === Object.prototype || proto === null) {
    return "constructor" in (value as object) && "props" in (value as object)
      ? "a JSX element"
      : null;
  }
  return `an instance of ${proto?.constructor?.name ?? "an unknown class"}`;
}
