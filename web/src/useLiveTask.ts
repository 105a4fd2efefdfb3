// One task, kept live: read once, then followed over `taskProgress` until it ends. Each update
// carries the task's fields, which land in the normalized cache, so every view of it follows.
//
// Once followed, it is followed until the subscription itself reports the end: History's
// `taskUpdates` may mark the task ended in the cache first, with only the few fields History
// reads; its error, result and finish time come with the subscription's last event.
import { skipToken, useQuery, useSubscription } from "@apollo/client/react";
import { useState } from "react";

import { isActive } from "./components/TaskProgress";
import { TaskProgressSubscription, TaskQuery } from "./operations";

export function useLiveTask(id: string) {
  const query = useQuery(TaskQuery, { variables: { id }, fetchPolicy: "cache-and-network" });
  const task = query.data?.task ?? null;
  const running = task === null ? !query.loading && !query.error : isActive(task);
  const [followed, setFollowed] = useState(false);
  const [ended, setEnded] = useState(false);
  if (running && !followed) setFollowed(true);
  const follow = !ended && (running || followed);
  const subscription = useSubscription(
    TaskProgressSubscription,
    follow
      ? {
          variables: { id },
          onData: ({ data }) => {
            const latest = data.data?.taskProgress.task;
            if (latest && !isActive(latest)) setEnded(true);
          },
        }
      : skipToken,
  );
  return {
    task: task ?? subscription.data?.taskProgress.task ?? null,
    loading: query.loading && !task,
    error: query.error ?? subscription.error ?? null,
  };
}
