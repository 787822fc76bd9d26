// The decks made from the posts (generator/site/slides.py): one slide at a time on screen,
// keyboard navigation, speaker notes on N, and every slide on its own page when printed.
// Without this script every slide shows, one under the other, which reads just as well.
(function () {
  "use strict";
  var deck = document.querySelector(".deck");
  if (!deck) return;
  var slides = Array.prototype.slice.call(deck.querySelectorAll(".slide"));
  var count = document.querySelector(".deck-controls__count");
  var notesButton = document.querySelector("[data-go=notes]");
  var current = 0;

  function fromHash() {
    var match = /^#slide-(\d+)$/.exec(window.location.hash);
    return match ? Math.min(Math.max(Number(match[1]) - 1, 0), slides.length - 1) : 0;
  }

  function show(index) {
    current = Math.min(Math.max(index, 0), slides.length - 1);
    slides.forEach(function (slide, i) {
      slide.classList.toggle("is-current", i === current);
      slide.setAttribute("aria-hidden", i === current ? "false" : "true");
    });
    count.textContent = current + 1 + " / " + slides.length;
    if (window.location.hash !== "#slide-" + (current + 1)) {
      history.replaceState(null, "", "#slide-" + (current + 1));
    }
  }

  function notes(on) {
    document.body.classList.toggle("show-notes", on);
    notesButton.setAttribute("aria-pressed", on ? "true" : "false");
  }

  document.addEventListener("keydown", function (event) {
    if (event.altKey || event.ctrlKey || event.metaKey) return;
    var key = event.key;
    if (key === "ArrowRight" || key === "ArrowDown" || key === "PageDown" || key === " ") show(current + 1);
    else if (key === "ArrowLeft" || key === "ArrowUp" || key === "PageUp" || key === "Backspace") show(current - 1);
    else if (key === "Home") show(0);
    else if (key === "End") show(slides.length - 1);
    else if (key === "n" || key === "N") notes(!document.body.classList.contains("show-notes"));
    else if (key === "p" || key === "P") window.print();
    else return;
    event.preventDefault();
  });
  document.querySelector("[data-go=previous]").addEventListener("click", function () { show(current - 1); });
  document.querySelector("[data-go=next]").addEventListener("click", function () { show(current + 1); });
  notesButton.addEventListener("click", function () {
    notes(!document.body.classList.contains("show-notes"));
  });
  window.addEventListener("hashchange", function () { show(fromHash()); });
  document.documentElement.classList.add("deck-ready");
  show(fromHash());
})();
