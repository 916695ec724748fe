// The install consent dialog: what the app asks for, line by line; resolves true only on "Approve and install".
export function askConsent(c, name) {
  const dialog = document.getElementById("consent");
  const fresh = c.new_requests === null;
  const lines = fresh ? c.requested : c.new_requests;
  document.getElementById("consent-title").textContent = fresh ? `Install ${name}?` : `Update ${name}?`;
  document.getElementById("consent-intro").textContent = fresh
    ? "It asks for:"
    : lines.length
    ? "This version asks for more than you granted:"
    : "This version asks for nothing new.";
  const list = document.getElementById("consent-lines");
  list.replaceChildren(...lines.map((l) => Object.assign(document.createElement("li"), { textContent: l })));
  if (!lines.length) list.append(Object.assign(document.createElement("li"), { textContent: "nothing" }));
  dialog.returnValue = "";
  dialog.showModal();
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => resolve(dialog.returnValue === "approve"), { once: true });
  });
}
