// The page: the edit form and the current run side by side (stacked on a phone), History below.
import { useApolloClient } from "@apollo/client/react";
import { useCallback, useEffect, useState } from "react";

import { unauthenticatedEvent } from "./apollo";
import { readApiKey } from "./apiKey";
import { ApiKeyDialog } from "./components/ApiKeyDialog";
import { CurrentRun, currentRunId } from "./components/CurrentRun";
import { EditForm } from "./components/EditForm";
import { History } from "./components/History";
import { RerunButton } from "./components/RerunButton";
import { Icon } from "./components/Icon";
import type { HistoryItemFieldsFragment, TaskStatus } from "./gql/graphql";
import { TaskBatchQuery } from "./operations";
import { useViewState } from "./urlState";

export function App() {
  const [view, setView] = useViewState();
  const [keyDialog, setKeyDialog] = useState<{ open: boolean; reason: string | null }>({ open: false, reason: null });

  useEffect(() => {
    const onRefused = () =>
      setKeyDialog({
        open: true,
        reason: readApiKey() ? "The service refused the stored key." : "The service asks for an API key.",
      });
    window.addEventListener(unauthenticatedEvent, onRefused);
    return () => window.removeEventListener(unauthenticatedEvent, onRefused);
  }, []);

  const client = useApolloClient();
  // A task of a batch opens with its siblings side by side, like a fresh batch; alone otherwise
  // (also when its batch cannot be read).
  const openFromHistory = useCallback(
    async (item: HistoryItemFieldsFragment) => {
      let tasks = [item.id];
      if (item.batchId) {
        try {
          const { data } = await client.query({ query: TaskBatchQuery, variables: { id: item.id } });
          const siblings = data?.task?.batch.map((sibling) => sibling.id) ?? [];
          if (siblings.length > 1) tasks = siblings;
        } catch {
          // The task alone is still worth showing; its card reports what is wrong with it.
        }
      }
      setView({ tasks, open: null }, true);
      // History is below the fold (far below on a phone): bring what was opened into view.
      window.requestAnimationFrame(() => {
        const shown = document.getElementById(currentRunId);
        const top = shown?.getBoundingClientRect().top ?? 0;
        if (top < 0 || top > window.innerHeight / 2) shown?.scrollIntoView({ block: "start" });
      });
    },
    [client, setView],
  );

  const onFilter = useCallback((change: { status?: TaskStatus[]; search?: string }) => setView(change), [setView]);

  return (
    <div className="app">
      <header className="topbar">
        <div className="brand">
          <span className="logo" aria-hidden="true">
            K
          </span>
          <div>
            <h1>Kontext</h1>
            <p>Edit a photo by describing the change</p>
          </div>
        </div>
        <button type="button" className="button ghost" onClick={() => setKeyDialog({ open: true, reason: null })}>
          <Icon name="key" /> API key
        </button>
      </header>
      <main className="workspace">
        <EditForm onGenerated={(tasks) => setView({ tasks, open: null }, true)} />
        <CurrentRun
          tasks={view.open && !view.tasks.includes(view.open) ? [view.open] : view.tasks}
          open={view.open}
          onOpen={(open) => setView({ open }, true)}
          onDeleted={(id) => setView({ tasks: view.tasks.filter((task) => task !== id), open: null })}
          onOpenTask={(id) => setView({ tasks: [id], open: null }, true)}
          rerun={(task) => <RerunButton task={task} onStarted={(tasks) => setView({ tasks, open: null }, true)} />}
        />
      </main>
      <History
        status={view.status}
        search={view.search}
        onFilter={onFilter}
        onOpen={(item) => void openFromHistory(item)}
        selected={view.open ? [view.open] : view.tasks}
      />
      <ApiKeyDialog
        open={keyDialog.open}
        reason={keyDialog.reason}
        onClose={() => setKeyDialog({ open: false, reason: null })}
      />
    </div>
  );
}
