/* Leadbase console: the few behaviours htmx does not give (no framework, no build). */
(function () {
  "use strict";
  function csrf() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }
  // Every htmx request carries the CSRF token; validation errors (422) are swapped in
  // like successes, so forms show their errors next to the inputs.
  document.addEventListener("htmx:configRequest", function (e) {
    e.detail.headers["X-CSRF-Token"] = csrf();
  });
  document.addEventListener("DOMContentLoaded", function () {
    if (window.htmx) {
      htmx.config.responseHandling = [
        { code: "204", swap: false },
        { code: "[23]..", swap: true },
        { code: "422", swap: true, error: false },
        { code: "[45]..", swap: false, error: true }
      ];
      htmx.config.historyCacheSize = 0;
    }
  });
  document.addEventListener("htmx:responseError", function (e) {
    var toast = document.getElementById("toast");
    if (toast) { toast.textContent = (e.detail.xhr.status || "") + " " + (e.detail.xhr.statusText || ""); }
  });
  // <select data-autosubmit> submits its form when changed.
  document.addEventListener("change", function (e) {
    var el = e.target;
    if (el && el.matches && el.matches("[data-autosubmit]") && el.form) { el.form.requestSubmit(); }
  });

  // <input type="checkbox" data-select-all="#table"> (un)checks the table's row boxes.
  document.addEventListener("change", function (e) {
    var box = e.target;
    if (!box || !box.matches || !box.matches("[data-select-all]")) { return; }
    var table = document.querySelector(box.getAttribute("data-select-all"));
    if (!table) { return; }
    table.querySelectorAll('tbody input[type="checkbox"]').forEach(function (b) {
      b.checked = box.checked;
    });
  });
  // <form data-confirm="question"> asks before it is sent.
  document.addEventListener("submit", function (e) {
    var form = e.target;
    if (form && form.hasAttribute && form.hasAttribute("data-confirm") &&
        !window.confirm(form.getAttribute("data-confirm"))) { e.preventDefault(); }
  });

  // Reorderable lists: <ol data-sortable="POST url"> of <li data-id draggable="true">.
  // Dropping (or the up/down buttons, [data-move="-1|1"]) posts the new order as ids=...
  function postOrder(list) {
    var ids = Array.prototype.map.call(list.querySelectorAll(":scope > [data-id]"),
      function (li) { return li.getAttribute("data-id"); });
    var target = list.getAttribute("data-target") || list;
    htmx.ajax("POST", list.getAttribute("data-sortable"),
      { source: list, target: target, swap: "outerHTML", values: { ids: ids } });
  }
  var dragged = null;
  var pendingFocus = null;
  document.addEventListener("dragstart", function (e) {
    var li = e.target.closest && e.target.closest("[data-sortable] > [data-id]");
    if (!li) { return; }
    dragged = li;
    li.classList.add("dragging");
    e.dataTransfer.effectAllowed = "move";
    e.dataTransfer.setData("text/plain", li.getAttribute("data-id"));
  });
  document.addEventListener("dragover", function (e) {
    if (!dragged) { return; }
    var over = e.target.closest && e.target.closest("[data-sortable] > [data-id]");
    if (!over || over === dragged || over.parentNode !== dragged.parentNode) { return; }
    e.preventDefault();
    var box = over.getBoundingClientRect();
    var after = e.clientY > box.top + box.height / 2;
    over.parentNode.insertBefore(dragged, after ? over.nextSibling : over);
  });
  document.addEventListener("drop", function (e) { if (dragged) { e.preventDefault(); } });
  document.addEventListener("dragend", function () {
    if (!dragged) { return; }
    var list = dragged.parentNode;
    dragged.classList.remove("dragging");
    dragged = null;
    postOrder(list);
  });
  document.addEventListener("click", function (e) {
    var btn = e.target.closest && e.target.closest("[data-move]");
    if (!btn) { return; }
    var li = btn.closest("[data-id]");
    var list = li && li.parentNode;
    if (!list || !list.hasAttribute("data-sortable")) { return; }
    e.preventDefault();
    if (btn.getAttribute("data-move") === "-1" && li.previousElementSibling) {
      list.insertBefore(li, li.previousElementSibling);
    } else if (btn.getAttribute("data-move") === "1" && li.nextElementSibling) {
      list.insertBefore(li.nextElementSibling, li);
    } else { return; }
    pendingFocus = [li.getAttribute("data-id"), btn.getAttribute("data-move")];
    postOrder(list);
  });
  // After a reorder swap, keep the keyboard focus on the button that was pressed.
  document.addEventListener("htmx:afterSettle", function () {
    if (!pendingFocus) { return; }
    var btn = document.querySelector('[data-id="' + pendingFocus[0] + '"] [data-move="' +
      pendingFocus[1] + '"]');
    pendingFocus = null;
    if (btn) { btn.focus(); }
  });
})();
