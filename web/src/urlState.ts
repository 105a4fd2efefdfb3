// What the page shows lives in the address: the tasks on screen (`tasks`), the one opened
// (`open`), the history filter (`status`, `q`). A reload or a second tab shows the same state.
import { useCallback, useSyncExternalStore } from "react";

import type { TaskStatus } from "./gql/graphql";

export interface ViewState {
  /** The tasks of the current run (one, or the siblings of a batch). */
  tasks: string[];
  /** The task opened on its own (from a batch or from History). */
  open: string | null;
  status: TaskStatus[];
  search: string;
}

const statuses: readonly TaskStatus[] = ["PENDING", "PROCESSING", "COMPLETED", "FAILED", "CANCELLED"];

export function parseViewState(search: string): ViewState {
  const params = new URLSearchParams(search);
  const list = (name: string) =>
    (params.get(name) ?? "")
      .split(",")
      .map((part) => part.trim())
      .filter(Boolean);
  return {
    tasks: list("tasks"),
    open: params.get("open") || null,
    status: list("status").filter((value): value is TaskStatus => statuses.includes(value as TaskStatus)),
    search: params.get("q") ?? "",
  };
}

export function formatViewState(state: ViewState): string {
  const params = new URLSearchParams();
  if (state.tasks.length) params.set("tasks", state.tasks.join(","));
  if (state.open) params.set("open", state.open);
  if (state.status.length) params.set("status", state.status.join(","));
  if (state.search) params.set("q", state.search);
  const text = params.toString();
  return text ? `?${text}` : "";
}

function subscribe(onChange: () => void): () => void {
  window.addEventListener("popstate", onChange);
  window.addEventListener("kontext:navigate", onChange);
  return () => {
    window.removeEventListener("popstate", onChange);
    window.removeEventListener("kontext:navigate", onChange);
  };
}

let cached: { search: string; state: ViewState } | null = null;

function snapshot(): ViewState {
  const search = window.location.search;
  if (cached?.search !== search) cached = { search, state: parseViewState(search) };
  return cached.state;
}

/** The view state and a setter; `push` makes a history entry (Back returns), else it replaces. */
export function useViewState(): [ViewState, (change: Partial<ViewState>, push?: boolean) => void] {
  const state = useSyncExternalStore(subscribe, snapshot);
  const update = useCallback((change: Partial<ViewState>, push = false) => {
    const next = { ...snapshot(), ...change };
    const url = `${window.location.pathname}${formatViewState(next)}${window.location.hash}`;
    if (push) window.history.pushState(null, "", url);
    else window.history.replaceState(null, "", url);
    window.dispatchEvent(new Event("kontext:navigate"));
  }, []);
  return [state, update];
}
