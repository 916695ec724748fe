/// <reference types="vite/client" />

interface ImportMetaEnv {
  /** The node `hyperdeno dev-ui` proxies to (http://localhost:PORT); unset in a build. */
  readonly VITE_NODE_URL?: string;
}
