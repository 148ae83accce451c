// Small behaviours shared by every page (no inline scripts: the CSP forbids them).
// - forms with data-confirm ask before submitting;
// - selects with data-autosubmit submit their form on change.
"use strict";
document.addEventListener("submit", (event) => {
  const question = event.target.dataset && event.target.dataset.confirm;
  if (question && !window.confirm(question)) event.preventDefault();
});
document.addEventListener("change", (event) => {
  if (event.target.matches("select[data-autosubmit]")) event.target.form.submit();
});
