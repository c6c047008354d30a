// Small behaviours that CSP allows (no inline scripts anywhere).
//
// Wide tables and charts scroll inside their own box, never the whole page (RGAA 10.11,
// reflow at 320 px): each one is put in a box (unless its parent already is one) and, while
// that box is too narrow for it, the box becomes a labelled region reachable with the Tab key,
// so that keyboard users can scroll it with the arrow keys. Without JavaScript the page still
// works: it scrolls sideways as a whole.
(function () {
  "use strict";
  var BOX = "scroll-region";
  var BOXES = ".scroll-region, .table-scroll, .chart-box";

  function nameOf(el, box) {
    var caption = el.querySelector && el.querySelector(":scope > caption, :scope > title");
    var text = caption ? caption.textContent : "";
    if (!text.trim()) {
      var section = box.closest("section, .card, figure, details");
      var heading = section && section.querySelector("h2, h3, h4, figcaption, summary");
      text = heading ? heading.textContent : "";
    }
    var fallback = document.querySelector("main").getAttribute("data-scroll-label") || "";
    return (text.trim() || fallback).replace(/\s+/g, " ").slice(0, 120);
  }

  function update(box) {
    var wide = box.scrollWidth > box.clientWidth + 1 || box.scrollHeight > box.clientHeight + 1;
    if (wide && !box.hasAttribute("tabindex")) {
      box.setAttribute("tabindex", "0");
      box.setAttribute("role", "region");
      box.setAttribute("aria-label", box.getAttribute("data-scroll-name"));
      box.setAttribute("data-scroll-managed", "");
    } else if (!wide && box.hasAttribute("data-scroll-managed")) {
      box.removeAttribute("tabindex");
      box.removeAttribute("role");
      box.removeAttribute("aria-label");
      box.removeAttribute("data-scroll-managed");
    }
  }

  var observer = "ResizeObserver" in window ? new ResizeObserver(function (entries) {
    entries.forEach(function (entry) { update(entry.target); });
  }) : null;

  function prepare(root) {
    var main = document.querySelector("main");
    if (!main || !root || !root.querySelectorAll) return;
    var found = [].slice.call(root.querySelectorAll("table, svg.chart"));
    if (root.matches && root.matches("table, svg.chart")) found.push(root);
    found.forEach(function (el) {
      if (!main.contains(el) || (el.parentElement && el.parentElement.closest("table"))) return;
      var box = el.parentElement;
      if (!box.matches(BOXES)) {
        box = document.createElement("div");
        box.className = BOX;
        el.parentNode.insertBefore(box, el);
        box.appendChild(el);
      }
      if (box.hasAttribute("data-scroll-name")) return;
      box.setAttribute("data-scroll-name", nameOf(el, box));
      update(box);
      if (observer) observer.observe(box);
    });
  }

  function start() { prepare(document.querySelector("main")); }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
  // Content swapped in by htmx (filters, sorting, a questionnaire's next step) gets the same
  // treatment. And when the swap removed the element that had the focus, the focus would fall
  // back to the top of the page: it goes to the new content's heading instead, so keyboard and
  // screen reader users carry on where they were (RGAA 7.1, 12.8). htmx:load is the event
  // that reaches the document for every kind of swap (the old element of an outerHTML swap is
  // detached, its own events go nowhere).
  document.addEventListener("htmx:load", function (event) {
    var fresh = event.target;
    prepare(fresh);
    if (!fresh || fresh === document.body || !document.contains(fresh)) return;
    // A polled live region announces itself (aria-live): it never takes the focus.
    if (fresh.closest && fresh.closest("[aria-live]")) return;
    var active = document.activeElement;
    if (active && active !== document.body && document.contains(active)) return;
    var heading = fresh.querySelector("h1, h2, h3, legend") || fresh;
    if (!heading.hasAttribute("tabindex")) heading.setAttribute("tabindex", "-1");
    heading.focus();
  });
  window.addEventListener("resize", function () {
    [].forEach.call(document.querySelectorAll("[data-scroll-name]"), update);
  });
})();
