// AEH Atelier — live updates (DESIGN.md §4).
// The server pushes rendered <hx-partial> HTML per audience; we apply it with
// htmx.swap. On (re)connect, or when a push shows we missed one, every region
// on the page is re-fetched with a plain GET: the database is the truth.
(function () {
  "use strict";
  const body = document.body;
  const code = body.dataset.workshop;
  if (!code || typeof io === "undefined") return;

  const pageRev = Number(body.dataset.rev || 0);
  const seen = {};          // channel -> last revision applied from it
  let known = pageRev;      // newest revision this page reflects

  // Keep the partials this page can apply. A card this page does not show yet
  // is appended to its column (data-else-append); pushes for regions the page
  // lacks are dropped.
  function applicable(html) {
    const tpl = document.createElement("template");
    tpl.innerHTML = html;
    for (const part of tpl.content.querySelectorAll("hx-partial")) {
      if (document.querySelector(part.getAttribute("hx-target"))) continue;
      const fallback = part.getAttribute("data-else-append");
      if (fallback && document.querySelector(fallback)) {
        part.setAttribute("hx-target", fallback);
        part.setAttribute("hx-swap", "beforeend");
      } else {
        part.remove();
      }
    }
    return tpl.content.querySelector("hx-partial") ? tpl.innerHTML : null;
  }

  function apply(html) {
    const text = applicable(html);
    if (text) htmx.swap({ text: text, target: body });
  }

  function resync() {
    for (const el of document.querySelectorAll("[data-region][data-src]")) {
      htmx.ajax("GET", el.dataset.src, { target: "#" + el.id, swap: "outerHTML" });
    }
  }

  const socket = io({ auth: { workshop: code }, transports: ["websocket", "polling"] });
  socket.on("connect", () => body.classList.remove("offline"));
  socket.on("disconnect", () => body.classList.add("offline"));
  socket.on("connect_error", () => body.classList.add("offline"));
  socket.on("hello", (msg) => {
    if (msg.rev !== known) resync();
    known = Math.max(known, msg.rev);
  });
  socket.on("push", (msg) => {
    const last = seen[msg.channel] ?? pageRev;
    seen[msg.channel] = msg.rev;
    known = Math.max(known, msg.rev);
    if (msg.since > last) resync();   // a push on this channel never reached us
    else apply(msg.html);
  });
  window.aehSocket = socket;  // for tests and debugging
})();
