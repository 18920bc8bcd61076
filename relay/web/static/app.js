// The message center's progressive enhancement. Every page works without it; with it:
// choosing a template shows its form at once and its preview follows what is typed, an answer
// is sent without leaving the page (so a refusal keeps even the chosen files), and j/k move
// through the message list.
"use strict";
document.documentElement.classList.add("js");

document.addEventListener("change", (event) => {
  const form = event.target.closest("form[data-autosubmit]");
  if (form) form.requestSubmit();
});

// The template's preview follows the variables as they are typed.
document.addEventListener("input", (event) => {
  const form = event.target.closest("form[data-answer]");
  if (!form) return;
  const values = {};
  for (const field of form.querySelectorAll("[name^=var_]")) {
    values[field.name.slice(4)] = field.value.trim();
  }
  for (const node of form.querySelectorAll("[data-preview]")) {
    node.textContent = node.dataset.preview.replace(
      /\$(?:\{(\w+)\}|(\w+))/g, (text, braced, plain) => values[braced || plain] || text);
  }
});

document.addEventListener("submit", async (event) => {
  const form = event.target.closest("form[data-answer]");
  if (!form || !window.fetch || !window.DOMParser) return;
  event.preventDefault();
  const button = form.querySelector("button[type=submit]");
  const status = document.getElementById("answer-status");
  button.disabled = true;
  try {
    const response = await fetch(form.action, {method: "POST", body: new FormData(form),
                                               credentials: "same-origin"});
    if (response.ok && response.redirected) {  // sent: the conversation page says so
      window.location.assign(response.url);
      return;
    }
    const page = new DOMParser().parseFromString(await response.text(), "text/html");
    const fresh = page.getElementById("answer-status");
    if (status && fresh) {
      status.replaceChildren(...fresh.childNodes);
      status.focus();
    } else {
      form.submit();  // not the page expected: let the browser show it
    }
  } catch (error) {
    form.submit();
  } finally {
    button.disabled = false;
  }
});

document.addEventListener("keydown", (event) => {
  if (event.altKey || event.ctrlKey || event.metaKey) return;
  if (event.target.closest("input, textarea, select, [contenteditable]")) return;
  if (event.key !== "j" && event.key !== "k") return;
  const links = [...document.querySelectorAll("#messages a.open")];
  if (!links.length) return;
  const at = links.indexOf(document.activeElement);
  const next = event.key === "j" ? Math.min(at + 1, links.length - 1) : Math.max(at - 1, 0);
  links[at < 0 ? 0 : next].focus();
  event.preventDefault();
});
