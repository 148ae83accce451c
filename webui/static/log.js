// Live log tail: fetch the try's log from the last byte offset until the try is over.
// Text is appended as a text node, so whatever a task printed stays inert.
"use strict";
(() => {
  const pre = document.getElementById("log");
  const status = document.getElementById("log-status");
  if (!pre) return;
  let offset = 0;

  function atBottom() {
    return pre.scrollHeight - pre.scrollTop - pre.clientHeight < 40;
  }

  async function poll() {
    let response;
    try {
      response = await fetch(pre.dataset.url + "&offset=" + offset, {
        credentials: "same-origin",
        headers: { Accept: "application/json" },
      });
    } catch (error) {
      status.textContent = "Connection lost; retrying…";
      setTimeout(poll, 5000);
      return;
    }
    if (!response.ok) {
      status.textContent = "No log for this try.";
      return;
    }
    const data = await response.json();
    if (data.content) {
      const follow = atBottom();
      pre.appendChild(document.createTextNode(data.content));
      if (follow) pre.scrollTop = pre.scrollHeight;
    }
    offset = data.offset;
    if (data.done) {
      status.textContent = data.exists ? "End of log." : "This try wrote no log.";
    } else {
      status.textContent = data.exists ? "Following the log…" : "Waiting for the task to start…";
      setTimeout(poll, data.content ? 500 : 1500);
    }
  }
  poll();
})();
