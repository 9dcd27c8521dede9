// What every page does without inline script (the Content-Security-Policy forbids it):
// data-submit-on-change on a field, data-confirm on a button, data-print and data-back.
(function () {
  document.addEventListener("change", function (event) {
    var field = event.target.closest("[data-submit-on-change]");
    if (field && field.form) field.form.submit();
  });
  document.addEventListener("click", function (event) {
    var confirming = event.target.closest("[data-confirm]");
    if (confirming && !window.confirm(confirming.dataset.confirm)) {
      event.preventDefault();
      return;
    }
    if (event.target.closest("[data-print]")) window.print();
    if (event.target.closest("[data-back]")) {
      event.preventDefault();
      history.back();
    }
  });
})();
