/// <reference types="vitest/config" />
import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

// The app is served by the service itself at `/`, next to `/graphql` and `/files`: relative URLs,
// no CDN. `npm run dev` proxies the API to a service on KONTEXT_URL (default 127.0.0.1:8000).
const api = process.env.KONTEXT_URL ?? "http://127.0.0.1:8000";

export default defineConfig({
  plugins: [react()],
  base: "/",
  build: { outDir: "dist", emptyOutDir: true, assetsInlineLimit: 0 },
  server: {
    proxy: {
      "/graphql": { target: api, ws: true },
      "/files": { target: api },
    },
  },
  test: {
    environment: "jsdom",
    include: ["src/**/*.test.{ts,tsx}"],
    setupFiles: ["src/test-setup.ts"],
  },
});
