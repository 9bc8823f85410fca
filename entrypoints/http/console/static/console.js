// Sorting a result table by a column, on a click of its header; the only script of the
// console's own (htmx does the rest). Numbers sort as numbers, the rest as text.
"use strict";
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
