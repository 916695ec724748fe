/** The chat's state (a Zustand store): the conversations, and sending through the process's API. */
import { create } from "zustand";
import type { Chats } from "../types/chat";

// The process's API, beside its page: /<process>/api.
const API = `${import.meta.env.BASE_URL}api`;

export interface ChatStore {
  chats: Chats;
  /** What became of the last send, for the status line. */
  status: string;
  /** The node answered 401: this browser has no session for the app. */
  loggedOut: boolean;
  refresh: () => Promise<void>;
  send: (target: string, message: string) => Promise<boolean>;
}

export const useChatStore = create<ChatStore>()((set, get) => ({
  chats: {},
  status: "",
  loggedOut: false,
  refresh: async () => {
    const r = await fetch(API);
    if (r.status === 401) return set({ loggedOut: true });
    if (r.ok) set({ chats: await r.json(), loggedOut: false });
  },
  send: async (target, message) => {
    const r = await fetch(API, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ Send: { target, message } }),
    });
    const error = r.ok ? "" : r.status === 401 ? "log in first" : (await r.json().catch(() => ({}))).error;
    set({ status: r.ok ? "sent" : `not sent: ${error ?? r.statusText}` });
    await get().refresh();
    return r.ok;
  },
}));
