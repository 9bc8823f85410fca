// The console's own script (htmx does the rest): live parts of a page, and sorting a
// result table by a column.
"use strict";

// Live parts: an element marked data-live is asked for again (htmx, its hx-get) when an
// event arrives on the stream its data-events names; without a stream (none named, or it
// closed) every POLL_MS instead. When no live part is left, the stream is closed.
const POLL_MS = 2000;
const CHANGED = "taskchange";
let source = null;
let timer = null;
let due = false;

function refresh() {
  if (due) return;
  due = true;
  // Events come in bursts (a status, then progress): one request for a burst.
  setTimeout(() => {
    due = false;
    document.querySelectorAll("[data-live]").forEach((part) => htmx.trigger(part, CHANGED));
  }, 200);
}

// How the page learnt of changes last (`stream` or `poll`), for whoever looks: tests.
function followed(how) {
  document.documentElement.dataset.followed = how;
}

function poll() {
  followed("poll");
  if (source) { source.close(); source = null; }
  if (!timer) timer = setInterval(refresh, POLL_MS);
}

function stop() {
  if (source) { source.close(); source = null; }
  if (timer) { clearInterval(timer); timer = null; }
}

function follow() {
  const live = document.querySelector("[data-live]");
  if (!live) { stop(); return; }
  if (source || timer) return;
  const stream = live.dataset.events;
  if (!stream || !window.EventSource) { poll(); return; }
  followed("stream");
  source = new EventSource(stream);
  source.addEventListener("open", refresh); // what changed before the stream was open
  source.addEventListener("status", refresh);
  source.addEventListener("progress", refresh);
  source.addEventListener("error", () => {
    if (source && source.readyState === EventSource.CLOSED) poll();
  });
}

document.addEventListener("DOMContentLoaded", follow);
document.addEventListener("htmx:afterSettle", follow);

// Sorting a result table on a click of a column's header: numbers as numbers, the rest
// as text.
document.addEventListener("click", (event) => {
  const button = event.target.closest("table.sortable button.sort");
  if (!button) return;
  const table = button.closest("table");
  const column = Number(button.dataset.column);
  const order = button.dataset.order === "asc" ? "desc" : "asc";
  table.querySelectorAll("button.sort").forEach((b) => b.removeAttribute("data-order"));
  button.dataset.order = order;
  const body = table.tBodies[0];
  const rows = Array.from(body.rows);
  const key = (row) => row.cells[column].textContent.trim();
  rows.sort((a, b) => {
    const x = key(a), y = key(b);
    const nx = Number(x), ny = Number(y);
    const c = x !== "" && y !== "" && !isNaN(nx) && !isNaN(ny) ? nx - ny : x.localeCompare(y);
    return order === "asc" ? c : -c;
  });
  rows.forEach((row) => body.appendChild(row));
});
