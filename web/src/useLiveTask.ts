// One task, kept live: read once, then followed over `taskProgress` until it ends. Each update
// carries the task's fields, which land in the normalized cache, so every view of it follows.
import { skipToken, useQuery, useSubscription } from "@apollo/client/react";

import { isActive } from "./components/TaskProgress";
import { TaskProgressSubscription, TaskQuery } from "./operations";

export function useLiveTask(id: string) {
  const query = useQuery(TaskQuery, { variables: { id }, fetchPolicy: "cache-and-network" });
  const task = query.data?.task ?? null;
  const follow = task === null ? !query.loading && !query.error : isActive(task);
  const subscription = useSubscription(TaskProgressSubscription, follow ? { variables: { id } } : skipToken);
  return {
    task: task ?? subscription.data?.taskProgress.task ?? null,
    loading: query.loading && !task,
    error: query.error ?? subscription.error ?? null,
  };
}
