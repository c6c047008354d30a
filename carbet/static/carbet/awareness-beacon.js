// Landing-page beacon of phishing simulations: tells Carbet a browser ran this page, which
// mail scanners and link pre-fetchers do not. It sends nothing but an empty POST.
(function () {
  "use strict";
  var script = document.currentScript;
  var url = script && script.getAttribute("data-beacon");
  if (!url) { return; }
  function send() {
    try {
      fetch(url, { method: "POST", credentials: "omit", keepalive: true, body: "" });
    } catch (e) { /* nothing to do: the click then stays unconfirmed */ }
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", send);
  } else {
    send();
  }
})();
