// Line icons drawn inline (no icon font or CDN).
const paths = {
  image: "M4 5h16v14H4z M4 15l4-4 4 4 3-3 5 5 M15 9.5a1.5 1.5 0 1 0 0-.01",
  upload: "M12 16V4 M7 9l5-5 5 5 M4 20h16",
  link: "M10 14a4 4 0 0 0 5.7 0l3-3a4 4 0 0 0-5.7-5.7l-1 1 M14 10a4 4 0 0 0-5.7 0l-3 3a4 4 0 0 0 5.7 5.7l1-1",
  sparkle:
    "M12 3l1.8 5.2L19 10l-5.2 1.8L12 17l-1.8-5.2L5 10l5.2-1.8z M19 16l.7 1.8 1.8.7-1.8.7-.7 1.8-.7-1.8-1.8-.7 1.8-.7z",
  download: "M12 4v12 M7 11l5 5 5-5 M4 20h16",
  trash: "M4 7h16 M9 7V4h6v3 M6 7l1 13h10l1-13",
  refresh: "M20 11a8 8 0 1 0-2.3 5.7 M20 4v7h-7",
  x: "M6 6l12 12 M18 6L6 18",
  key: "M14 10a4 4 0 1 0-3.5 4L8 16.5V19h2.5v-2h2l1.3-1.3A4 4 0 0 0 14 10z M15.5 8.5h.01",
  history: "M3 12a9 9 0 1 0 3-6.7 M3 4v5h5 M12 8v4l3 2",
  search: "M11 18a7 7 0 1 0 0-14 7 7 0 0 0 0 14z M20 20l-4-4",
  columns: "M4 5h7v14H4z M13 5h7v14h-7z",
  bookmark: "M6 4h12v16l-6-4-6 4z",
} as const;

export type IconName = keyof typeof paths;

export function Icon({ name, size = 18 }: { name: IconName; size?: number }) {
  return (
    <svg
      className="icon"
      width={size}
      height={size}
      viewBox="0 0 24 24"
      fill="none"
      stroke="currentColor"
      strokeWidth={1.8}
      strokeLinecap="round"
      strokeLinejoin="round"
      aria-hidden="true"
      focusable="false"
    >
      <path d={paths[name]} />
    </svg>
  );
}
