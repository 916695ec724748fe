/** The chat's shapes, as its process's API (api/) declares them. */
export interface ChatMessage {
  author: string;
  content: string;
}

/** Every conversation, by the other node's name: what GET <process>/api answers. */
export type Chats = Record<string, ChatMessage[]>;

declare global {
  interface Window {
    /** Set by the node's /our.js. */
    our?: { node: string; process: string };
  }
}
