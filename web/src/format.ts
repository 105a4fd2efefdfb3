// Numbers and times as the page shows them.
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(0)} KB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}

export function formatClock(iso: string): string {
  return new Date(iso).toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit", second: "2-digit" });
}

export function formatDateTime(iso: string): string {
  return new Date(iso).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "medium" });
}

/** Seconds between two instants, e.g. "12.4 s" or "3 min 5 s". */
export function formatDuration(fromIso: string, toIso: string): string {
  const seconds = Math.max(0, (Date.parse(toIso) - Date.parse(fromIso)) / 1000);
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  return `${Math.floor(seconds / 60)} min ${Math.round(seconds % 60)} s`;
}

export function formatImageType(contentType: string): string {
  return contentType.replace(/^image\//, "").toUpperCase();
}

/** How long until an estimated instant, e.g. "about 12 s left", "about 3 min left". */
export function formatTimeLeft(untilIso: string, now: number): string {
  const seconds = Math.round((Date.parse(untilIso) - now) / 1000);
  if (seconds <= 0) return "any moment now";
  if (seconds < 60) return `about ${seconds} s left`;
  return `about ${Math.round(seconds / 60)} min left`;
}
