/** The chat's page: a form to send a message to another node, and every conversation, refreshed every 2 s. */
import { type FormEvent, useEffect, useState } from "react";
import { useChatStore } from "./store/chat";

// Where a browser without the app's session logs in: the node (in `dev-ui`, the one it proxies to), whose login
// leads back to this process's page on the app's origin with the app's cookie, which this page then shares.
const LOGIN = `${import.meta.env.VITE_NODE_URL ?? ""}${import.meta.env.BASE_URL}`;

export default function App() {
  const { chats, status, loggedOut, refresh, send } = useChatStore();
  const [target, setTarget] = useState("");
  const [message, setMessage] = useState("");

  useEffect(() => {
    refresh();
    const timer = setInterval(refresh, 2000);
    return () => clearInterval(timer);
  }, [refresh]);

  async function onSubmit(event: FormEvent) {
    event.preventDefault();
    if (await send(target.trim(), message)) setMessage("");
  }

  return (
    <main>
      <h1>
        {document.title} on <span id="our">{window.our?.node ?? ""}</span>
      </h1>
      {loggedOut && (
        <p id="login">
          Not logged in: <a href={LOGIN}>log in through the node</a>, then reload this page.
        </p>
      )}
      <form id="send" onSubmit={onSubmit}>
        <input
          id="target"
          placeholder="node, e.g. fake2.dev"
          required
          value={target}
          onChange={(e) => setTarget(e.target.value)}
        />
        <input id="message" placeholder="message" required value={message} onChange={(e) => setMessage(e.target.value)} />
        <button>Send</button>
      </form>
      <p id="status" role="status">{status}</p>
      <section id="chats">
        {Object.entries(chats).map(([node, messages]) => (
          <article key={node}>
            <h2>{node}</h2>
            <ul>
              {messages.map((m, i) => <li key={i}>{m.author}: {m.content}</li>)}
            </ul>
          </article>
        ))}
      </section>
    </main>
  );
}
