/* Leadbase console: the pipeline board's drag and drop (HTML5). Dropping a card on
   another column posts the move through htmx (the CSRF header rides along, see
   console.js) and swaps the board; each card's own form does the same from the keyboard. */
(function () {
  "use strict";
  var dragged = null;
  function column(el) { return el && el.closest ? el.closest(".column[data-stage-id]") : null; }
  document.addEventListener("dragstart", function (e) {
    var card = e.target.closest && e.target.closest(".lead-card[data-lead-id]");
    if (!card || card.getAttribute("draggable") !== "true") { return; }
    dragged = card;
    card.classList.add("dragging");
    e.dataTransfer.effectAllowed = "move";
    e.dataTransfer.setData("text/plain", card.getAttribute("data-lead-id"));
  });
  document.addEventListener("dragover", function (e) {
    var col = column(e.target);
    if (!dragged || !col) { return; }
    e.preventDefault();
    e.dataTransfer.dropEffect = "move";
    document.querySelectorAll(".column.drop-over").forEach(function (c) { if (c !== col) { c.classList.remove("drop-over"); } });
    col.classList.add("drop-over");
  });
  document.addEventListener("dragleave", function (e) {
    var col = column(e.target);
    if (col && !col.contains(e.relatedTarget)) { col.classList.remove("drop-over"); }
  });
  document.addEventListener("drop", function (e) {
    var col = column(e.target);
    if (!dragged || !col) { return; }
    e.preventDefault();
    col.classList.remove("drop-over");
    var card = dragged;
    dragged = null;
    card.classList.remove("dragging");
    if (column(card) === col) { return; }
    var board = document.getElementById("board");
    col.querySelector("ol").prepend(card);
    htmx.ajax("POST", board.getAttribute("data-move-url"), {
      source: board, target: "#board", swap: "outerHTML",
      values: { lead_id: card.getAttribute("data-lead-id"), stage: col.getAttribute("data-stage-id") }
    });
  });
  document.addEventListener("dragend", function () {
    if (dragged) { dragged.classList.remove("dragging"); dragged = null; }
    document.querySelectorAll(".column.drop-over").forEach(function (c) { c.classList.remove("drop-over"); });
  });
})();
