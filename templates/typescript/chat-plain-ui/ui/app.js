// The chat's page: lists conversations from GET api and sends with POST api (both beside this page).
const api = new URL("api", location.href.endsWith("/") ? location.href : location.href + "/");
const $ = (id) => document.getElementById(id);
$("our").textContent = globalThis.our?.node ?? "";

async function refresh() {
  const chats = await (await fetch(api)).json();
  $("chats").replaceChildren(
    ...Object.entries(chats).map(([node, messages]) => {
      const section = document.createElement("article");
      const title = document.createElement("h2");
      title.textContent = node;
      const list = document.createElement("ul");
      for (const m of messages) {
        const item = document.createElement("li");
        item.textContent = `${m.author}: ${m.content}`;
        list.append(item);
      }
      section.append(title, list);
      return section;
    }),
  );
}

$("send").addEventListener("submit", async (event) => {
  event.preventDefault();
  const body = { Send: { target: $("target").value.trim(), message: $("message").value } };
  const r = await fetch(api, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  $("status").textContent = r.ok ? "sent" : `not sent: ${(await r.json()).error}`;
  if (r.ok) $("message").value = "";
  await refresh();
});

refresh();
setInterval(refresh, 2000);
