// AEH Atelier — live updates (DESIGN.md §4).
// The server pushes rendered <hx-partial> HTML per audience; we apply it with
// htmx.swap. On (re)connect, or when a push shows we missed one, every region
// on the page is re-fetched with a plain GET: the database is the truth.
// Behaviours that would otherwise be inline handlers (the CSP allows no inline script):
// a form with data-confirm asks first; a button with data-print prints the page.
document.addEventListener("submit", function (event) {
  const form = event.target;
  if (form instanceof HTMLFormElement && form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
    event.preventDefault();
  }
});
document.addEventListener("click", function (event) {
  if (event.target instanceof Element && event.target.closest("[data-print]")) window.print();
});

(function () {
  "use strict";
  const body = document.body;
  const code = body.dataset.workshop;
  if (!code || typeof io === "undefined") return;

  const pageRev = Number(body.dataset.rev || 0);
  const seen = {};          // channel -> revision of the last push applied from it
  let known = pageRev;      // newest revision any push or fetch has shown this page
  let synced = pageRev;     // the page as a whole reflects at least this revision

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
    if (text) htmx.swap({ text: text, target: body, swap: "none" });
  }

  // Re-fetch every region of the page at once. If a push newer than what the
  // fetches returned arrived meanwhile, fetch again; if the network fails, try
  // again a little later. `synced` only moves when every region came back.
  let syncing = false, again = false, retry = null;
  async function resync() {
    if (syncing) { again = true; return; }
    syncing = true;
    clearTimeout(retry);
    let settled = false;
    try {
      for (let round = 0; round < 3 && !settled; round++) {
        again = false;
        const regions = [...document.querySelectorAll("[data-region][data-src]")];
        const replies = await Promise.all(regions.map(async (el) => {
          const resp = await fetch(el.dataset.src, { credentials: "same-origin", cache: "no-store" });
          return { id: el.id, ok: resp.ok, rev: Number(resp.headers.get("X-Revision") || 0), text: await resp.text() };
        }));
        for (const reply of replies) {
          const el = document.getElementById(reply.id);
          if (reply.ok && el) await htmx.swap({ text: reply.text, target: el, swap: "outerHTML" });
        }
        if (!replies.every((r) => r.ok)) break;
        const rev = Math.min(...replies.map((r) => r.rev));
        synced = Math.max(synced, rev);
        known = Math.max(known, rev);
        settled = !again && known <= rev;
      }
    } catch (err) {
      // Offline, or the server is restarting: retried below.
    } finally {
      syncing = false;
      if (!settled) retry = setTimeout(resync, 1500);
    }
  }

  // Phase timer: every screen counts down to the same server end time. The
  // offset between this clock and the server's comes from the socket's hello
  // (or, until then, from when the timer was rendered).
  let clockOffset = null;
  function tickTimers() {
    for (const el of document.querySelectorAll("[data-timer]")) {
      if (el.dataset.state !== "running" && el.dataset.state !== "over") continue;
      const offset = clockOffset ?? (el._offset ??= Number(el.dataset.now) - Date.now());
      const left = Math.max(0, Math.ceil((Number(el.dataset.ends) - (Date.now() + offset)) / 1000));
      const clock = String(Math.floor(left / 60)).padStart(2, "0") + ":" + String(left % 60).padStart(2, "0");
      const text = el.querySelector(".clock");
      if (text && text.textContent !== clock) text.textContent = clock;
      if (left === 0 && el.dataset.state !== "over") {
        el.dataset.state = "over";
        el.classList.replace("is-running", "is-over");
        const note = el.querySelector(".timer-note");
        if (note) note.textContent = note.dataset.overText;
      }
    }
  }
  setInterval(tickTimers, 250);

  // Dot voting from the keyboard: + and − on a focused ballot row.
  document.addEventListener("keydown", (event) => {
    const row = event.target.closest && event.target.closest("[data-ballot-row]");
    if (!row || event.target.matches("input, textarea, select")) return;
    if (event.ctrlKey || event.metaKey || event.altKey || event.repeat) return;   // zoom and friends
    const button = ["+", "="].includes(event.key) ? row.querySelector("[data-add]")
      : ["-", "−", "_"].includes(event.key) ? row.querySelector("[data-remove]") : null;
    if (button && !button.disabled) { event.preventDefault(); button.click(); }
  });

  const socket = io({ auth: { workshop: code }, transports: ["websocket", "polling"], tryAllTransports: true });
  socket.on("connect", () => body.classList.remove("offline"));
  socket.on("disconnect", () => body.classList.add("offline"));
  socket.on("connect_error", () => body.classList.add("offline"));
  socket.on("hello", (msg) => {
    if (typeof msg.now === "number") { clockOffset = msg.now - Date.now(); tickTimers(); }
    // Anything since the last complete fetch may have been missed while offline.
    if (msg.rev !== synced) resync();
  });
  socket.on("push", (msg) => {
    if (msg.rev < synced) return;               // older than what the page already shows
    const last = Math.max(seen[msg.channel] ?? pageRev, synced);
    if (msg.rev < last) { resync(); return; }   // out of order (several server processes)
    seen[msg.channel] = msg.rev;
    known = Math.max(known, msg.rev);
    apply(msg.html);
    if (msg.since > last) resync();             // a push on this channel never reached us
    else if (syncing) again = true;
  });
  window.aehSocket = socket;  // for tests and debugging
})();
