// What every page does without inline script (the Content-Security-Policy forbids it):
// data-submit-on-change on a field, data-confirm on a button or a form, data-print and
// data-back.
(function () {
  document.addEventListener("change", function (event) {
    var field = event.target.closest("[data-submit-on-change]");
    if (field && field.form) field.form.submit();
  });
  document.addEventListener("click", function (event) {
    // a form's own data-confirm is asked on submit (below), not on every click inside it
    var confirming = event.target.closest("button[data-confirm], a[data-confirm], input[data-confirm]");
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
  // destructive forms: 不予受理, 撤件, 减签, 挂起, 终止, 停用, 删除, 撤销 …
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var submitter = event.submitter;
    if (submitter && submitter.hasAttribute("data-confirm")) return; // asked on its click
    if (form.hasAttribute("data-confirm") && !window.confirm(form.dataset.confirm)) {
      event.preventDefault();
    }
  });
})();
