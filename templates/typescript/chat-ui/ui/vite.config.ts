/**
 * The chat's UI, as the book's template has it: React, built by Vite.
 *
 * `hyperdeno build` runs `npm ci` and `npm run build` here (tsc, then vite build into dist/) and puts dist/ in
 * pkg/ui/. `hyperdeno dev-ui -p PORT` runs `npm run dev`: this server, with hot reloading, answering the
 * process's paths itself and proxying the rest to the node at VITE_NODE_URL.
 */
import { readFileSync } from "node:fs";
import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

// The process the UI belongs to, process:package:publisher (the first of pkg/manifest.json, the package's main
// process): the node serves the built UI at /<process>/, so every URL of the UI starts there.
const json = (path: string) => JSON.parse(readFileSync(new URL(path, import.meta.url), "utf8"));
const { package_name, publisher } = json("../metadata.json").properties;
const BASE_URL = `/${json("../pkg/manifest.json")[0].process_name}:${package_name}:${publisher}`;

// The node to develop against; `hyperdeno dev-ui -p PORT` sets it. 127.0.0.1: the node listens on IPv4 loopback.
const NODE_URL = process.env.VITE_NODE_URL ?? "http://localhost:8080";
const target = NODE_URL.replace("//localhost", "//127.0.0.1");
const escaped = BASE_URL.replace(/[.:]/g, "\\$&");

export default defineConfig({
  plugins: [react()],
  base: `${BASE_URL}/`,
  server: {
    host: "127.0.0.1",
    // The Host header goes to the node as the browser sent it (no changeOrigin): a page opened on the app's
    // origin, http://<label>.localhost:<this port>/<process>/, is that app's origin to the node too, so the
    // app's own session cookie (from logging in through the node) is honoured, and the browser's Origin
    // matches the Host, as the node's cross-site refusal wants.
    proxy: {
      "/our.js": { target },
      [`${BASE_URL}/our.js`]: { target, rewrite: () => "/our.js" },
      // The process's own paths (its API, its WebSockets); Vite answers its sources (@vite/, src/, node_modules/).
      [`^${escaped}/(?!(@|src/|node_modules/|\\?|$))`]: { target, ws: true },
    },
  },
});
