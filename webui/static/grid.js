// Live grid: poll the grid's JSON and recolour cells in place; when the runs shown
// change (a new run, an old one scrolled off), swap in a freshly rendered table.
"use strict";
(() => {
  const root = document.getElementById("grid");
  if (!root || root.dataset.poll !== "yes") return;
  const live = document.getElementById("grid-live");
  const FAST = 2000, SLOW = 10000;

  const stateClass = (state) => "state-" + (state || "none");
  const label = (state) => (state || "no status").replace(/_/g, " ");

  function shownRuns() {
    return [...root.querySelectorAll("th.run-head")].map((th) => th.dataset.run);
  }

  function cellIndex() {
    const index = new Map();
    for (const a of root.querySelectorAll("a.cell")) {
      index.set(a.dataset.task + "\u0000" + a.dataset.run, a);
    }
    return index;
  }

  function paint(data) {
    const cells = cellIndex();
    for (const cell of data.cells) {
      const a = cells.get(cell.task_id + "\u0000" + cell.run_id);
      if (!a) continue;
      const mapped = Object.keys(cell.counts).length > 0;
      a.className = "cell " + stateClass(cell.state) + (mapped ? " mapped" : "");
      const total = Object.values(cell.counts).reduce((x, y) => x + y, 0);
      a.textContent = mapped ? String(total) : "";
      a.title = cell.task_id + " · " + cell.run_id + " · " + label(cell.state);
    }
    for (const run of data.runs) {
      const th = [...root.querySelectorAll("th.run-head")].find((t) => t.dataset.run === run.run_id);
      const bar = th && th.querySelector("rect");
      if (bar) bar.setAttribute("class", "run-bar " + stateClass(run.state));
    }
  }

  async function swapTable() {
    const response = await fetch(root.dataset.tableUrl, { credentials: "same-origin" });
    if (response.ok) root.innerHTML = await response.text();
  }

  async function poll() {
    let delay = SLOW;
    try {
      const response = await fetch(root.dataset.jsonUrl, {
        credentials: "same-origin",
        headers: { Accept: "application/json" },
      });
      if (response.ok) {
        const data = await response.json();
        const runs = data.runs.map((r) => r.run_id);
        if (runs.join("\n") !== shownRuns().join("\n")) await swapTable();
        else paint(data);
        delay = data.live ? FAST : SLOW;
        if (live) live.hidden = !data.live;
      }
    } finally {
      setTimeout(poll, document.hidden ? SLOW : delay);
    }
  }
  setTimeout(poll, FAST);
})();
