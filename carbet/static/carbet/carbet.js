// Small behaviours that CSP allows (no inline scripts anywhere).
document.addEventListener("change", function (event) {
  var el = event.target;
  if (el && el.matches && el.matches("[data-autosubmit]")) {
    el.form.submit();
  }
});
